import hybridmem


def test_all_is_sorted_and_pinned() -> None:
    assert hybridmem.__all__ == sorted(hybridmem.__all__)
    assert hybridmem.__all__ == [
        "AccessError",
        "AddMessagesResult",
        "DEFAULT_MODEL",
        "EncoderError",
        "Engine",
        "EngineConfig",
        "FieldTooLongError",
        "ForbiddenError",
        "HybridMemError",
        "IndexRebuiltWarning",
        "InvalidFilterError",
        "InvalidRequestError",
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
        "SearchData",
        "StoreClosedError",
        "StoreError",
        "StoreFormatError",
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
