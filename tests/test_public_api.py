import hybridmem


def test_all_is_sorted_and_pinned() -> None:
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert hybridmem.__all__ == sorted(hybridmem.__all__, key=group)
    assert hybridmem.__all__ == [
        "DEFAULT_MODEL",
        "AccessError",
        "AddMessagesResult",
        "EncoderError",
        "Engine",
        "EngineConfig",
        "FieldTooLongError",
        "ForbiddenError",
        "HybridMemError",
        "IdConflictError",
        "IndexRebuiltWarning",
        "InvalidFilterError",
        "InvalidRequestError",
        "LimitExceededError",
        "Memory",
        "MemoryDetail",
        "Message",
        "MessageBatch",
        "MessageDetail",
        "MissingFieldError",
        "ModelMismatchError",
        "NotFoundError",
        "PayloadTooLargeError",
        "Preference",
        "PreferenceDetail",
        "ReindexReport",
        "SearchData",
        "StoreClosedError",
        "StoreError",
        "StoreFormatError",
        "StoreLockedError",
        "TransferReport",
        "__version__",
        "load_config",
    ]
    for name in hybridmem.__all__:
        assert hasattr(hybridmem, name)


def test_every_error_derives_from_one_root() -> None:
    from hybridmem import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), hybridmem.HybridMemError)


def test_engine_cannot_be_constructed_directly() -> None:
    import pytest

    with pytest.raises(TypeError, match=r"Engine\.open"):
        hybridmem.Engine()
