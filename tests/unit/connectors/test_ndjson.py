"""NdjsonDecoder: complete lines out of arbitrary byte chunks."""

from __future__ import annotations

from gamekeeper.connectors.ndjson import NdjsonDecoder


def decode_all(chunks: list[bytes]) -> tuple[list[bytes], bytes]:
    decoder = NdjsonDecoder()
    lines = [line for chunk in chunks for line in decoder.feed(chunk)]
    return lines, decoder.finish()


def test_lines_split_across_chunks_come_out_whole() -> None:
    lines, tail = decode_all([b'{"a":', b"1}\n{", b'"b":2}\n'])
    assert lines == [b'{"a":1}', b'{"b":2}']
    assert tail == b""


def test_every_split_point_gives_the_same_lines() -> None:
    data = '{"name":"Émile"}\n{"x":[1,2]}\r\n\n{"y":"日本"}\n'.encode()
    expected = [b'{"name":"\xc3\x89mile"}', b'{"x":[1,2]}', '{"y":"日本"}'.encode()]
    for cut in range(len(data) + 1):
        lines, tail = decode_all([data[:cut], data[cut:]])
        assert lines == expected, cut
        assert tail == b""


def test_one_byte_at_a_time() -> None:
    data = b'{"a":1}\n{"b":2}\n'
    lines, _ = decode_all([data[i : i + 1] for i in range(len(data))])
    assert lines == [b'{"a":1}', b'{"b":2}']


def test_blank_keepalive_lines_are_skipped_and_counted_out() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b"\n\n \n") == []
    assert decoder.feed(b'{"a":1}\n\n') == [b'{"a":1}']
    assert decoder.lines == 1


def test_an_unfinished_last_line_is_returned_by_finish() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":') == [b'{"a":1}']
    assert decoder.pending == len(b'{"b":')
    assert decoder.finish() == b'{"b":'
    assert decoder.pending == 0
    assert decoder.lines == 2


def test_the_buffer_holds_only_the_unfinished_line() -> None:
    decoder = NdjsonDecoder()
    for _ in range(1000):
        decoder.feed(b'{"game":"' + b"x" * 100 + b'"}\n{"ga')
        decoder.feed(b'me":1}\n')
    assert decoder.pending == 0
    assert decoder.lines == 2000
