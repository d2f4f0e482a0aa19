"""Chess.com: raw records to games (`records`) apart from requests and archives (`source`)."""
