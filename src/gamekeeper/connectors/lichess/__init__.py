"""Lichess: raw records to games (`records`) apart from requests and streaming (`source`)."""
