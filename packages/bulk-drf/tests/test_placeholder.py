def test_placeholder():
    import bulk_drf
    assert bulk_drf.__version__
