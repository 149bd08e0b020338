#!/usr/bin/python3
"""serve_client.py PORT TASK [MALFORMED]: drives a running `recur serve` over HTTP/1.1 and checks
what it answers (tests/cli/serve_smoke.sh). TASK is lm or classify. Prints one line per check;
exits 1 at the first failure. With MALFORMED > 0, that many malformed requests are sent on
keep-alive connections (every one must get a 4xx JSON error), and the server must still answer
properly afterwards."""
import http.client
import json
import random
import sys
import threading


def request(port, method, path, body=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    if own:
        conn.close()
    return res.status, data, res


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok  ", what)


def as_json(data, what):
    try:
        return json.loads(data)
    except ValueError:
        check(False, f"{what}: not JSON: {data[:200]!r}")


def malformed(rng, task):
    field = "prompt" if task == "lm" else "text"
    kinds = [
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
        lambda: b"{" * rng.randrange(1, 5000),
        lambda: b"[" * 100000,  # deep nesting
        lambda: json.dumps({field: "the"})[: rng.randrange(1, 12)].encode(),
        lambda: json.dumps({field: rng.choice([1, 2.5, None, [], {}, True])}).encode(),
        lambda: json.dumps({field: "the", "bogus": 1}).encode(),
        lambda: json.dumps({"length": 5}).encode(),
        lambda: json.dumps([field, "the"]).encode(),
        lambda: b"",
        lambda: json.dumps({field: "the", "length": rng.choice([-5, 10**30, "x", 1e300])}).encode(),
        lambda: json.dumps({field: "the", "temperature": rng.choice([0, -1, "hot", 1e308])}).encode(),
        lambda: b'{"' + field.encode() + b'": "\xff\xfe\xfd"}',
    ]
    return rng.choice(kinds)()


def main():
    port, task = int(sys.argv[1]), sys.argv[2]
    bad_count = int(sys.argv[3]) if len(sys.argv) > 3 else 0

    status, data, _ = request(port, "GET", "/healthz")
    check(status == 200 and as_json(data, "healthz")["task"] == task, f"GET /healthz: {data!r}")
    status, data, _ = request(port, "GET", "/v1/model")
    model = as_json(data, "model")
    check(status == 200 and model["task"] == task and "network" in model and "request" in model,
          "GET /v1/model describes the task, the network and the request")

    if task == "lm":
        good = json.dumps({"prompt": "And God said", "length": 120, "temperature": 0.8, "seed": 5})
        status, data, _ = request(port, "POST", "/v1/predict", good)
        reply = as_json(data, "predict")
        check(status == 200 and len(reply["text"]) > 0 and reply["tokens"] == 120,
              f"POST /v1/predict generates 120 tokens: {reply.get('text', '')[:40]!r}...")
        status, again, _ = request(port, "POST", "/v1/predict", good)
        check(again == data, "the same seed gives the same text")
        streamed = json.loads(good)
        streamed["stream"] = True
        status, chunks, res = request(port, "POST", "/v1/predict", json.dumps(streamed))
        check(status == 200 and res.getheader("Transfer-Encoding") == "chunked"
              and chunks.decode() == reply["text"],
              "stream: chunked transfer, the same text as the whole reply")
    else:
        good = json.dumps({"text": "Wer zuletzt lacht, lacht am besten.", "top": 3})
        status, data, _ = request(port, "POST", "/v1/predict", good)
        reply = as_json(data, "predict")
        p = [c["probability"] for c in reply.get("classes", [])]
        check(status == 200 and len(p) == 3 and p == sorted(p, reverse=True) and sum(p) <= 1 + 1e-4
              and reply["label"] == reply["classes"][0]["label"],
              f"POST /v1/predict classifies, the 3 likeliest classes first: {reply.get('label')}")
        status, data, _ = request(port, "POST", "/v1/predict",
                                  json.dumps({"texts": ["Hello, world.", "Bonjour tout le monde."]}))
        both = as_json(data, "predict texts")
        check(status == 200 and len(both["results"]) == 2
              and abs(sum(c["probability"] for c in both["results"][0]["classes"]) - 1) < 1e-4,
              "a list of texts: every class, probabilities summing to 1")

    # Statuses: malformed 400, too large 413, unusable 422, no endpoint 404, wrong method 405.
    field = "prompt" if task == "lm" else "text"
    for body, want, what in [
        ("{not json", 400, "invalid JSON"),
        (json.dumps({field: 7}), 400, "a wrong type"),
        (json.dumps({field: "x", "nope": 1}), 400, "an unknown field"),
        (" " * (2 << 20), 413, "a body over --max-body"),
        (json.dumps({field: ""}), 422, "an empty input"),
    ]:
        status, data, _ = request(port, "POST", "/v1/predict", body)
        check(status == want and "error" in as_json(data, what), f"{what}: {status} {data[:90]!r}")
    status, data, _ = request(port, "GET", "/v1/nothing")
    check(status == 404 and "error" in as_json(data, "404"), "an unknown endpoint: 404 with a JSON error")
    status, data, res = request(port, "GET", "/v1/predict")
    check(status == 405 and res.getheader("Allow") == "POST", "GET /v1/predict: 405, Allow: POST")

    # Eight clients at once get what one gets.
    want = request(port, "POST", "/v1/predict", good)[1]
    got = [None] * 8

    def client(i):
        got[i] = request(port, "POST", "/v1/predict", good)[1]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(g == want for g in got), "8 concurrent clients get the single client's answer")

    if bad_count:
        rng = random.Random(1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        statuses = {}
        for i in range(bad_count):
            body = malformed(rng, task)
            try:
                status, data, res = request(port, "POST", "/v1/predict", body, conn)
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, data, res = request(port, "POST", "/v1/predict", body, conn)
            statuses[status] = statuses.get(status, 0) + 1
            if not (400 <= status < 500) or "error" not in json.loads(data):
                check(False, f"malformed request {i}: {body[:80]!r} -> {status} {data[:200]!r}")
            if res.getheader("Connection") == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        check(True, f"{bad_count} malformed requests, each a 4xx JSON error: {dict(sorted(statuses.items()))}")
        status, data, _ = request(port, "POST", "/v1/predict", good)
        check(status == 200 and data == want, "after them, the server answers as before")


if __name__ == "__main__":
    main()
