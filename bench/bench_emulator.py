"""Emulator throughput: requests/s over keep-alive TLS, single requests and 20-request $batch.

    PYTHONPATH=src python bench/bench_emulator.py [--seconds 3] [--clients 1,4] [--in-process]

By default the emulator runs as `python -m reconciler emulator` in its own process (its own GIL, as in
CI where tests talk to it over HTTPS); `--in-process` uses `with Emulator(...)` in this process instead.
Each client is one httpx.Client (one keep-alive TLS connection) in its own thread. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from reconciler.emulator import Emulator, envfile
from reconciler.emulator.seeds import generated

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
SEED_PARTNERS = 200


@contextmanager
def emulator(in_process: bool) -> Iterator[dict[str, str]]:
    if in_process:
        with Emulator(seed=generated(SEED_PARTNERS)) as emu:
            yield {**emu.env("writer"), "TENANT": emu.tenant_id}
        return
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "emulator.env"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "emulator",
                "--seed",
                f"generated:{SEED_PARTNERS}",
                "--env-file",
                str(env_file),
            ],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            deadline = time.monotonic() + 30
            while not env_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            env = envfile.read(env_file)
            yield {**env, "TENANT": env["AZURE_TENANT_ID"]}
        finally:
            proc.terminate()
            proc.wait(10)


def client(env: dict[str, str]) -> httpx.Client:
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    with httpx.Client(verify=verify) as http:
        token = http.post(
            f"{env['XTAP_GRAPH_URL']}/{env['TENANT']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["AZURE_CLIENT_ID"],
                "client_secret": env["AZURE_CLIENT_SECRET"],
                "scope": f"{env['XTAP_GRAPH_URL']}/.default",
            },
        ).json()["access_token"]
    return httpx.Client(
        base_url=env["XTAP_GRAPH_URL"],
        verify=verify,
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )


def measure(
    env: dict[str, str], clients: int, seconds: float, work: Callable[[httpx.Client, int], int]
) -> float:
    """Graph requests per second (batch sub-requests counted one each) across `clients` threads."""
    counts = [0] * clients
    stop = time.monotonic() + seconds
    start_gate = threading.Barrier(clients + 1)

    def loop(index: int) -> None:
        with client(env) as http:
            work(http, 0)  # warm up: TLS handshake, first request
            start_gate.wait()
            i = 0
            while time.monotonic() < stop:
                counts[index] += work(http, i)
                i += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.monotonic()
    stop = began + seconds
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", default="1,4", help="comma-separated client (connection) counts")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    with emulator(args.in_process) as env:
        with client(env) as http:
            ids = [p["tenantId"] for p in http.get(f"{PARTNERS}?$top=999&$select=tenantId").json()["value"]]

        def get_one(http: httpx.Client, i: int) -> int:
            http.get(f"{PARTNERS}/{ids[i % len(ids)]}").raise_for_status()
            return 1

        def patch_one(http: httpx.Client, i: int) -> int:
            body = {
                "inboundTrust": {
                    "isMfaAccepted": i % 2 == 0,
                    "isCompliantDeviceAccepted": False,
                    "isHybridAzureADJoinedDeviceAccepted": False,
                }
            }
            http.patch(f"{PARTNERS}/{ids[i % len(ids)]}", json=body).raise_for_status()
            return 1

        def batch(method: str) -> Callable[[httpx.Client, int], int]:
            def run(http: httpx.Client, i: int) -> int:
                requests = []
                for j in range(20):
                    tid = ids[(i * 20 + j) % len(ids)]
                    req = {
                        "id": str(j),
                        "method": method,
                        "url": f"/policies/crossTenantAccessPolicy/partners/{tid}",
                    }
                    if method == "PATCH":
                        req["headers"] = {"Content-Type": "application/json"}  # type: ignore[assignment]
                        req["body"] = {"inboundTrust": {"isMfaAccepted": i % 2 == 0}}  # type: ignore[assignment]
                    requests.append(req)
                response = http.post("/v1.0/$batch", json={"requests": requests})
                response.raise_for_status()
                assert all(r["status"] < 300 for r in response.json()["responses"])
                return 20

            return run

        mode = "in-process" if args.in_process else "separate process"
        print(
            f"Emulator ({mode}, seed generated:{SEED_PARTNERS}), {args.seconds:g} s per row, "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
        )
        print("| workload | clients | Graph requests/s |")
        print("|---|---:|---:|")
        for clients in (int(c) for c in args.clients.split(",")):
            for name, work in (
                ("GET partner", get_one),
                ("PATCH partner", patch_one),
                ("$batch of 20 GETs", batch("GET")),
                ("$batch of 20 PATCHes", batch("PATCH")),
            ):
                rate = measure(env, clients, args.seconds, work)
                print(f"| {name} | {clients} | {rate:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
