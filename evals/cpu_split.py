"""Where one process's CPU goes per request: ``Bot.ask`` alone, in-process, on the load test's question mix.

Compare with ``evals/load.py``'s "server CPU per answer" (the whole app: Gradio, the queue, HTTP, JSON and
``Bot.ask``): the difference is the serving overhead per request. CPU time (not wall time) is measured, so other jobs
on the machine change it little.

Run: ``python evals/cpu_split.py [--asks 300] [--threads 1]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

from load import load_questions  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.serve.pipeline import Bot  # noqa: E402
from bot.serve.threads import apply_threads  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=300)
    parser.add_argument("--threads", type=int, default=0, help="BOT_THREADS for this process")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    apply_threads(args.threads)
    bot = Bot.load(settings)
    bot.ask("warm-up: tax refund")
    bot.ask("hoan thue")
    questions = load_questions()
    langs = sorted(questions)
    rng = random.Random(args.seed)
    picked = [rng.choice(questions[rng.choice(langs)]) for _ in range(args.asks)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for q in picked:
        bot.ask(q.text, history=list(q.history))
    cpu = (time.process_time() - cpu0) * 1000 / args.asks
    wall = (time.perf_counter() - wall0) * 1000 / args.asks
    print(f"Bot.ask: {cpu:.1f} ms CPU, {wall:.1f} ms wall per ask over {args.asks} asks (threads={args.threads})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
