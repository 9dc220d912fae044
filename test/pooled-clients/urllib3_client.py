# A pooled urllib3 client (Debian's python3-urllib3) for the pooled-clients tests: runs one scenario
# against a linger server and prints {"requests","ok","failures","refused","retries","resets","errors"} as JSON.
# Usage: urllib3_client.py <idle|limit|close> <url> <workers> <arg>
import json
import sys
import threading
import time

import urllib3

lock = threading.Lock()
result = {"requests": 0, "ok": 0, "failures": 0, "refused": 0, "retries": 0, "resets": 0, "errors": []}


def note(message):
    if len(result["errors"]) < 5:
        result["errors"].append(message)


def get(pool, url):
    # urllib3's default policy (Retry(3)), whose history says how many attempts a request needed.
    try:
        response = pool.request("GET", url, retries=urllib3.Retry(3))
        history = response.retries.history if response.retries is not None else ()
        with lock:
            result["requests"] += 1
            result["retries"] += len(history)
            for entry in history:
                if "reset" in repr(entry.error).lower():
                    result["resets"] += 1
                note("retried: %r" % (entry.error,))
            if response.status == 200:
                result["ok"] += 1
            else:
                result["failures"] += 1
                note("status %d" % response.status)
    except Exception as error:  # a request that failed after the retries: counted, never raised
        with lock:
            result["requests"] += 1
            # A new connection after the server stopped listening: the request never left the client.
            if "Connection refused" in repr(error):
                result["refused"] += 1
            else:
                result["failures"] += 1
            if "reset" in repr(error).lower():
                result["resets"] += 1
            note(repr(error))


def in_workers(workers, body):
    threads = [threading.Thread(target=body, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main():
    mode, base, workers, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "idle":
        # One pool per worker, so each connection's idle time is exactly the gap before its next request.
        gaps = [int(g) for g in arg.split(",")]

        def worker(w):
            pool = urllib3.PoolManager(maxsize=1)
            get(pool, base + "/")
            for i in range(len(gaps)):
                time.sleep(gaps[(i + w) % len(gaps)] / 1000)
                get(pool, base + "/")
            pool.clear()

        in_workers(workers, worker)
    elif mode == "limit":
        pool = urllib3.PoolManager(maxsize=workers)
        count = int(arg)
        in_workers(workers, lambda w: [get(pool, base + "/") for _ in range(count)])
    else:
        pool = urllib3.PoolManager(maxsize=workers)
        in_workers(workers, lambda w: get(pool, base + "/warm"))

        def worker(w):
            if w % 2 == 0:
                get(pool, base + "/slow?ms=" + arg)
            else:
                time.sleep(0.2)
                get(pool, base + "/")

        in_workers(workers, worker)
    print(json.dumps(result))


main()
