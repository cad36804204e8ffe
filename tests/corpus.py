"""A tiny canonical corpus for engine tests."""

from hybridmem import Memory, Preference

#: dimension of the `tiny_model` fixture (a random one-layer BERT; see conftest.py)
TINY_DIM = 32

# A tiny canonical corpus (three users, both kinds), in the spirit of tantivy-py's fixtures.
SMALL = [
    Memory(
        id="m1",
        user_id="u1",
        memory_key="Pet",
        memory_value="The user has a cat named Miso.",
        tags=["pet"],
        conversation_id="c1",
        create_time=1_000,
        update_time=1_000,
    ),
    Memory(
        id="m2",
        user_id="u1",
        memory_value="The user lives in Hangzhou and works remotely.",
        tags=["home"],
        conversation_id="c1",
        create_time=2_000,
        update_time=2_000,
    ),
    Memory(
        id="m3",
        user_id="u1",
        memory_value="The user is allergic to peanuts.",
        memory_type="UserMemory",
        tags=["health", "food"],
        conversation_id="c2",
        create_time=3_000,
        update_time=3_000,
    ),
    Memory(
        id="m4",
        user_id="u2",
        memory_value="The user has a dog named Rex.",
        tags=["pet"],
        create_time=1_500,
        update_time=1_500,
    ),
    Memory(
        id="m5",
        user_id="u2",
        memory_value="用户喜欢喝咖啡，每天早上一杯。",
        tags=["饮食"],
        create_time=2_500,
        update_time=2_500,
    ),
    Preference(
        id="p1",
        user_id="u1",
        preference="The user prefers vegetarian restaurants.",
        create_time=1_000,
        update_time=1_000,
    ),
    Preference(
        id="p2",
        user_id="u2",
        preference="The user wants short answers.",
        create_time=1_000,
        update_time=1_000,
    ),
]
