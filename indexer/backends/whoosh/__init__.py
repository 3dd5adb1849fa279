"""The embedded backend: Whoosh indexes in generation folders (engine.py reads, writer.py writes).

The only package of zhsearch that imports whoosh; its private names are used
in adapter.py alone.
"""
