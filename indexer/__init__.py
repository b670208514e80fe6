"""Index and search archives of Chinese-language news articles with Elasticsearch."""

__version__ = "0.1.0"
