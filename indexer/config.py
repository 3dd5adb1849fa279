"""Named defaults. Library functions take these as arguments; only the CLI and
the web app read the environment (variables prefixed ``ZHSEARCH_``)."""

from pathlib import Path

# Prefix of every environment variable zhsearch reads (CLI options and Flask config).
ENV_PREFIX = "ZHSEARCH"

# Where `reindex` and the web app keep the index unless told otherwise.
INDEX_DIR = Path("index_data")

# The posts `reindex` indexes when given no source: our own demo articles, shipped in the package.
DEMO_POSTS_DIR = Path(__file__).parent / "demo_posts"

# File suffixes that are Hexo posts; everything else in a source tree is ignored.
POST_SUFFIXES = (".md", ".markdown")

# Results per page when the caller does not say.
PAGE_SIZE = 10

# Largest post file read, in bytes. Bigger files are reported as failures, not loaded.
MAX_POST_BYTES = 32 * 1024 * 1024

# Largest YAML front matter accepted, in characters; real posts use a few hundred.
MAX_FRONT_MATTER_CHARS = 64 * 1024

# Longest query accepted, in characters; longer ones are a QueryError.
MAX_QUERY_CHARS = 512

# Longest category filter accepted, in characters; real ones are a few.
MAX_CATEGORY_CHARS = 100

# Longest feed filter accepted (a folder path such as 金融/新浪财经/头条), in characters.
MAX_FEED_CHARS = 300

# The display time zone: dates are shown, filtered and counted per month in it
# (the archives are Chinese news, so Beijing time). Env ZHSEARCH_TIMEZONE.
TIMEZONE = "Asia/Shanghai"

# Most terms a query may have after parsing; keeps query time bounded.
MAX_QUERY_TERMS = 32

# Most clauses a query may have counting every OR alternative and exclusion:
# `的 OR 是 OR …` is one term but costs as much as all its alternatives.
MAX_QUERY_CLAUSES = 32

# Most postings (a term's occurrences, one per post) a search may read over all
# its clauses and fields; reading one costs about 1-4 µs. Everyday queries read
# 20,000-100,000 on 10,000 posts; 32 common words read 650,000 (2-10 s).
MAX_QUERY_POSTINGS = 500_000

# Seconds a search may spend matching and ranking; past it, the posts found so
# far are ranked and returned with a note, so one costly query cannot hold up others.
# Checked between steps, so a search can overrun it by one step (a few 100 ms at most).
QUERY_TIME_BUDGET = 0.5

# Megabytes the embedded index may keep of reused postings (the posts of common
# terms and clauses, as compressed bitmaps) per open index. Env ZHSEARCH_CACHE_MB.
CACHE_MB = 64

# Target snippet length in characters, and how many fragments a snippet joins.
SNIPPET_CHARS = 120
SNIPPET_FRAGMENTS = 3
