"""Benchmark harness: zhsearch vs. the usual jieba + Whoosh recipe (``python -m bench``)."""
