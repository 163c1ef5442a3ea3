#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Write the seed corpus of tests/fuzz/fuzz_metrics_http.c into tests/fuzz/corpus/metrics_http/.

What a --metrics-listen client sends: a request of each status helperd_metrics_http_parse()
answers, and the near misses around them. An input is the bytes of the request, nothing
else. Run this again after changing the seeds and commit the result.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

SEEDS = {
    "get": b"GET /metrics HTTP/1.1\r\nHost: localhost:9464\r\nAccept: */*\r\n\r\n",
    "get_http10_lf": b"GET /metrics HTTP/1.0\n\n",
    "get_query": b"GET /metrics?name[]=skaccel_up HTTP/1.1\r\n\r\n",
    "head": b"HEAD /metrics HTTP/1.1\r\n\r\n",
    "head_404": b"HEAD /nope HTTP/1.1\r\n\r\n",
    "prometheus": b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: "
    b"Prometheus/2.45.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;"
    b"version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
    b"X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    "root_404": b"GET / HTTP/1.1\r\n\r\n",
    "sub_404": b"GET /metrics/x HTTP/1.1\r\n\r\n",
    "post_405": b"POST /metrics HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
    "http2_400": b"GET /metrics HTTP/2.0\r\n\r\n",
    "method_16_405": b"ABCDEFGHIJKLMNOP /metrics HTTP/1.1\r\n\r\n",
    "method_17_400": b"ABCDEFGHIJKLMNOPQ /metrics HTTP/1.1\r\n\r\n",
    "lower_method_400": b"get /metrics HTTP/1.1\r\n\r\n",
    "no_slash_400": b"GET metrics HTTP/1.1\r\n\r\n",
    "nul_400": b"GET /metrics\x00 HTTP/1.1\r\n\r\n",
    "partial_line": b"GET /metr",
    "partial_headers": b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
    "cr_cr_lf": b"GET /metrics HTTP/1.1\r\r\n\r\n",
    "long_431": b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 2100,
    "long_line_431": b"GET /" + b"m" * 2100,
}

if __name__ == "__main__":
    out = os.path.join(HERE, "corpus", "metrics_http")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))
