def test_placeholder():
    import bulk_signals_django
    assert bulk_signals_django.__version__
