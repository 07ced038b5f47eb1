"""``python -m bot …``: a thin shell over the library. Progress bars and one-line errors live here, nothing else."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from bot.config import DEFAULT_MODEL, Settings
from bot.errors import BotError
from bot.schema import MODES, TOPICS, Answer, Hit


def _hit_json(hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {
        "rank": hit.rank, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "kind": c.kind, "topic": c.topic,
        "title": c.title, "lang": c.lang, "score": round(hit.score, 6),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 4),
        "dense_rank": hit.dense_rank, "lexical_rank": hit.lexical_rank, "text": c.text, "url": c.url,
        "sources": [{"title": s.title, "url": s.url} for s in c.sources], "valid_as_of": c.valid_as_of,
        "measures": list(c.measures),
    }


def cmd_models_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.build.models import fetch_default_model, resolve_model
    from bot.build.onnx_export import export_dir_for, export_onnx

    if settings.model == DEFAULT_MODEL:
        fetch_default_model(settings, progress=lambda msg: print(msg, file=sys.stderr), force=args.force)
    wants_onnx = args.onnx or settings.embed_backend == "onnx"
    if wants_onnx and (args.force or not export_dir_for(resolve_model(settings)).is_dir()):
        print("exporting to ONNX and quantising to int8 (about 75 s)", file=sys.stderr)
        print(f"ONNX model ready at {export_onnx(resolve_model(settings))}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.build.chunk import chunk_documents
    from bot.build.corpus import load_corpus

    docs, cards = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(docs)
    by_kind: dict[str, int] = {}
    for c in chunks:
        by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
    from bot.checks.rules import load_rules

    rules = load_rules(settings.corpus_dir)
    print(f"corpus ok: {len(cards)} cards, {len(docs)} documents, {len(chunks)} chunks {by_kind}; rule tables: "
          f"transit {rules.transit.meta.version} ({len(rules.transit.countries)} countries, "
          f"{len(rules.transit.ports)} ports), refund {rules.refund.meta.version}, "
          f"payment {rules.payment.meta.version}, 30-day list {rules.unilateral.meta.version}")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from bot.build.chunk import chunk_documents
    from bot.build.corpus import load_corpus
    from bot.build.embed import load_embedder
    from bot.build.index import build_index

    started = time.perf_counter()
    docs, _cards = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(docs)
    print(f"{len(chunks)} chunks from {len(docs)} documents; loading model {settings.model}", file=sys.stderr)
    embedder = load_embedder(settings, build=True)  # one one-thread ONNX session per core (embed.py)
    print(f"corpus and model loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    interactive = sys.stderr.isatty()
    bar = tqdm(total=0, unit="chunk", desc="embedding", file=sys.stderr, disable=not interactive)
    reported = [0]

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        # In CI logs (no terminal) a line per tenth instead of a bar.
        if not interactive and (done * 10 // max(total, 1) > reported[0] or done == total):
            reported[0] = done * 10 // max(total, 1)
            print(f"embedded {done}/{total} chunks", file=sys.stderr, flush=True)

    report = build_index(chunks, embedder, settings.index_dir, progress)
    bar.close()
    print(f"index ready: {report.chunks} chunks ({report.embedded} embedded, {report.reused} reused) "
          f"in {report.seconds:.1f}s at {report.path}", file=sys.stderr)
    print("build stages: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report.stages), file=sys.stderr)
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answer.expiry import expiry_notice
    from bot.clock import today
    from bot.serve.pipeline import Bot

    bot = Bot.load(settings)
    hits = bot.search(args.query, k=args.k, mode=args.mode, lang=args.lang,
                      topics=args.topic or None, kinds=args.kind or None)
    day = today(settings)
    # A card past its valid_until is never shown without its notice (expiry.py).
    notices = [expiry_notice(card, day, h.chunk.lang) if h.chunk.kind == "card" and (card := bot.cards.get(
        h.chunk.doc_id)) else None for h in hits]
    if args.json:
        print(json.dumps([{**_hit_json(h), "expiry_notice": n} for h, n in zip(hits, notices, strict=True)],
                         ensure_ascii=False, indent=2))
        return 0
    for h, notice in zip(hits, notices, strict=True):
        c = h.chunk
        print(f"{h.rank}. [{c.kind}/{c.topic}] {c.title}  ({c.lang}, score {h.score:.4f})")
        print(f"   {c.text[:300].replace(chr(10), ' ')}")
        if notice:
            print(f"   {notice}")
        print(f"   source: {c.url or (c.sources[0].title if c.sources else '-')} · valid as of {c.valid_as_of}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.evals.evaluate import dataset_files, load_cases, markdown_report, run_retrieval
    from bot.evals.evaluate_answers import markdown_answers, run_answers, summarise_answers
    from bot.evals.targets import markdown_targets
    from bot.serve.pipeline import Bot

    cases = load_cases(dataset_files(Path(args.dataset)))
    bot = Bot.load(settings)
    retrieval = run_retrieval(bot, cases, modes=args.mode or MODES)
    if args.langchain_baseline:
        from bot.evals.evaluate_langchain import run_langchain_baseline

        retrieval["langchain-baseline"] = run_langchain_baseline(settings, cases)
    answers = summarise_answers(run_answers(bot, cases))
    report = {"dataset": args.dataset, "cases": len(cases), "model": bot.embedder.model_id,
              "retrieval": retrieval, "answers": answers}
    text = markdown_targets(report) + "\n" + markdown_report(retrieval) + "\n" + markdown_answers(answers)
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        (out / "report.md").write_text(text, encoding="utf-8")
    print(text)
    from bot.evals.gate import compare, headlines, load_baseline, write_baseline

    baseline_path = Path(args.baseline)
    if args.write_baseline and "hybrid" in retrieval:
        write_baseline(baseline_path, report)
        print(f"baseline written to {baseline_path}", file=sys.stderr)
    if (args.gate or args.write_baseline) and "hybrid" not in retrieval:
        raise BotError("the gate and the baseline use hybrid retrieval: run without --mode, or include hybrid")
    if args.gate:
        problems = compare(headlines(report), load_baseline(baseline_path))
        if problems:
            print("quality gate FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(f"quality gate passed against {baseline_path}", file=sys.stderr)
    return 0


def render(answer: Answer) -> str:
    """The answer as a visitor or a service-window clerk reads it: text, sources, date."""
    from bot.messages import message

    lines = [answer.text]
    if answer.citations:
        lines += ["", message("ui_sources", answer.language) + ":"]
        lines += [f"- {c.title}" + (f" <{c.url}>" if c.url else "") for c in answer.citations]
    if answer.valid_as_of:
        lines.append(message("ui_valid_as_of", answer.language, date=answer.valid_as_of))
    return "\n".join(lines)


def _ask_jsonl(bot: Any, path: str) -> int:
    """One JSON object per input line, in input order; a bad line gives an error object and the run goes on."""
    import time

    source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    with source:
        for n, line in enumerate(source, start=1):
            if not line.strip():
                continue
            row: dict[str, Any] = {"id": None}
            try:
                case = json.loads(line)
                if not isinstance(case, dict):
                    raise ValueError("each line must be a JSON object")
                row = {"id": case.get("id", n), "question": case.get("question")}
                history = case.get("history") or []
                if not isinstance(history, list):
                    raise ValueError("'history' must be a list")
                start = time.perf_counter()
                answer = bot.ask(case.get("question"), history=history, lang=case.get("lang"))
                row.update(answer.as_json(), latency_ms=round((time.perf_counter() - start) * 1000, 2))
            except (BotError, ValueError) as exc:
                row.update(error=str(exc), line=n)
            print(_json_line(row), flush=True)
    return 0


def _json_line(row: dict[str, Any]) -> str:
    """Readable UTF-8 when possible; a row echoing a lone surrogate falls back to \\u escapes instead of stopping
    the whole run."""
    text = json.dumps(row, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row)
    return text


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve.pipeline import Bot

    bot = Bot.load(settings)
    if args.jsonl:
        return _ask_jsonl(bot, args.jsonl)
    if not args.question:
        raise BotError("give a QUESTION, or --jsonl FILE")
    answer = bot.ask(args.question, lang=args.lang)
    print(json.dumps(answer.as_json(), ensure_ascii=False, indent=2) if args.json else render(answer))
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """What a server started now would serve: the index build, the corpus state it was made from, the rule tables."""
    from bot.serve.pipeline import Bot

    health = Bot.load(settings).health()
    if args.json:
        print(json.dumps(health, ensure_ascii=False, indent=2))
        return 0
    rules: Any = health["rules"]
    print(f"index build {health['build_id']} (built {health['built_at']}, model {health['model_id']}, "
          f"{health['chunks']} chunks, {health['cards']} cards)\ncorpus hash {health['corpus_hash']}\n"
          f"rule tables: transit {rules['transit']}, refund {rules['refund']}, payment {rules['payment']}, "
          f"30-day list {rules['unilateral']}")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.evals.bench import markdown_bench, run_bench, save

    report = run_bench(settings, Path(args.dataset), compare_torch=not args.no_torch, langchain=args.langchain)
    if args.report:
        save(report, Path(args.report) / "bench.json")
    print(markdown_bench(report))
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Run one rule checker from flags; the same result the chat and the web form show."""
    from bot.checks import check_fields
    from bot.checks.render import render, render_error
    from bot.checks.rules import load_rules
    from bot.clock import today
    from bot.errors import BadInput

    rules = load_rules(settings.corpus_dir)
    if args.checker == "transit":
        fields = dict(nationality=args.nationality, origin=args.origin, destination=args.destination,
                      entry_port=args.port, entry=args.entry, planned_exit=args.exit, exit_port=args.exit_port)
    elif args.checker == "refund":
        fields = dict(amount=args.amount, vat=args.vat, purchase=args.purchase, departure=args.departure,
                      days_in_china=args.days_in_china, method=args.method, instant=args.instant)
    else:
        fields = dict(amount=args.amount, currency=args.currency, method=args.method, spent_today=args.spent_today)
    try:
        result = check_fields(args.checker, rules, today(settings), **fields)
    except BadInput as exc:
        print(f"error: {render_error(exc, args.lang)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**result.as_json(), "text": render(result, args.lang, rules)}, ensure_ascii=False,
                         indent=2))
    else:
        print(render(result, args.lang, rules))
    return 0


def _add_check_parsers(sub: Any) -> None:
    from bot.schema import LANGUAGES

    check = sub.add_parser("check", help="exact answers from the rule tables: transit, refund, payment")
    kinds = check.add_subparsers(dest="checker", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the explanation")
    common.add_argument("--json", action="store_true", help="machine-readable result")
    transit = kinds.add_parser("transit", parents=[common], help="240-hour visa-free transit")
    transit.add_argument("--nationality", help="passport country: ISO code (US) or name")
    transit.add_argument("--from", dest="origin", help="country or region you fly in from (HK, Tokyo → JP …)")
    transit.add_argument("--to", dest="destination", help="country or region you go to next")
    transit.add_argument("--port", help="entry port id or name (szx-baoan, Luohu …)")
    transit.add_argument("--entry", help="entry date[-time], China time unless an offset is given")
    transit.add_argument("--exit", help="planned exit date[-time]")
    transit.add_argument("--exit-port", help="exit port id or name")
    refund = kinds.add_parser("refund", parents=[common], help="departure tax refund estimate")
    refund.add_argument("--amount", help="RMB incl. VAT, one store, one day")
    refund.add_argument("--vat", choices=("13", "9"), help="VAT rate on the invoice (default: show both)")
    refund.add_argument("--purchase", help="purchase date YYYY-MM-DD")
    refund.add_argument("--departure", help="departure date YYYY-MM-DD")
    refund.add_argument("--days-in-china", help="consecutive days in mainland China before leaving")
    refund.add_argument("--method", choices=("cash", "bank_transfer", "mobile_wallet"))
    refund.add_argument("--instant", action="store_true", help="explain the instant refund at purchase")
    payment = kinds.add_parser("payment", parents=[common], help="fees and limits of a payment")
    payment.add_argument("--amount", help="amount of one payment")
    payment.add_argument("--currency", default="CNY", choices=("CNY", "RMB", "USD"))
    payment.add_argument("--method", choices=("alipay_wechat_card", "ecny_anonymous", "cash"))
    payment.add_argument("--spent-today", help="RMB already paid today from the e-CNY anonymous wallet")
    check.set_defaults(func=cmd_check)


def cmd_content_report(args: argparse.Namespace, settings: Settings) -> int:
    """Freshness and use of every card, guide and rule table (``content_report.py``)."""
    from pathlib import Path

    from bot.clock import today
    from bot.store.feedback import FeedbackStore
    from bot.web.content_report import build_report, markdown

    # Read the feedback store only if the app has made one: a report must not create it somewhere new.
    store = FeedbackStore(settings.feedback_db) if settings.feedback_db.exists() else None
    if settings.feedback_dsn:  # the shared PostgreSQL store of a scale-out (bot/store/postgres.py)
        from bot.store.postgres import PostgresFeedbackStore

        store = PostgresFeedbackStore(settings.feedback_dsn)
    report = build_report(settings.corpus_dir, today(settings), store)
    as_json = json.dumps(report.as_json(), ensure_ascii=False, indent=2)
    text = markdown(report)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "content-report.json").write_text(as_json + "\n", encoding="utf-8")
        (out / "content-report.md").write_text(text, encoding="utf-8")
        print(f"written {out / 'content-report.md'} and {out / 'content-report.json'}", file=sys.stderr)
    print(as_json if args.json else text)
    return 0


def cmd_feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.feedback import FeedbackStore, case_line, export_cases
    from bot.store.postgres import PostgresFeedbackStore

    path = settings.feedback_db
    if not settings.feedback_dsn and not path.exists():
        raise BotError(f"No feedback yet: {path} does not exist.")
    store = PostgresFeedbackStore(settings.feedback_dsn) if settings.feedback_dsn else FeedbackStore(path)
    for case in export_cases(store):  # the desk's "Make QA case" writes the same line for one row (web/triage.py)
        print(case_line(case))
    return 0


def _positive(text: str) -> int:
    value = int(text) if text.strip().lstrip("-").isdigit() else 0
    if value < 1 or value > 100:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number from 1 to 100")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="provision the embedding model")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download, assemble and verify EmbeddingGemma-300m")
    fetch.add_argument("--force", action="store_true", help="fetch again even if a verified copy exists")
    fetch.add_argument("--onnx", action="store_true", help="also make the ONNX int8 export (automatic when "
                       "BOT_EMBED_BACKEND=onnx)")
    fetch.set_defaults(func=cmd_models_fetch)

    sub.add_parser("validate", help="check every corpus file").set_defaults(func=cmd_validate)
    sub.add_parser("index", help="build or refresh the index").set_defaults(func=cmd_index)

    search = sub.add_parser("search", help="hybrid search over the corpus")
    search.add_argument("query")
    search.add_argument("-k", type=_positive, help="number of hits (default: BOT_TOP_K, 5)")
    search.add_argument("--mode", choices=MODES, default="hybrid")
    search.add_argument("--lang", help="language of the passages to show (default: the query's)")
    search.add_argument("--topic", action="append", choices=TOPICS, help="restrict to a topic (repeatable)")
    search.add_argument("--kind", action="append", choices=["plan", "guide", "card"], help="restrict to a kind")
    search.add_argument("--json", action="store_true", help="print hits as JSON")
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="answer a question (or a JSONL file of them)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--lang", help="answer in this language (default: the question's)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--jsonl", metavar="FILE", help="read {id, question, history?, lang?} lines ('-' = stdin)")
    ask.set_defaults(func=cmd_ask)

    evaluate = sub.add_parser("eval", help="run the QA benchmark")
    evaluate.add_argument("--dataset", default=str(Settings().corpus_dir.parent / "evals" / "datasets"),
                          help="a JSONL file or a folder of them")
    evaluate.add_argument("--report", help="folder for the JSON and Markdown report")
    evaluate.add_argument("--mode", action="append", choices=MODES)
    evaluate.add_argument("--baseline", default=str(Settings().corpus_dir.parent / "evals" / "baseline.json"),
                          help="headline metrics to hold (default evals/baseline.json)")
    evaluate.add_argument("--langchain-baseline", action="store_true",
                          help="also measure plain LangChain (HuggingFaceEmbeddings + FAISS store, defaults)")
    evaluate.add_argument("--gate", action="store_true", help="exit 1 when a headline metric drops > 2 points")
    evaluate.add_argument("--write-baseline", action="store_true", help="store this run's headlines as baseline")
    evaluate.set_defaults(func=cmd_eval)

    feedback = sub.add_parser("feedback", help="visitors' feedback")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True)
    feedback_sub.add_parser("export", help="print feedback as JSONL QA cases for review").set_defaults(
        func=cmd_feedback_export)

    content = sub.add_parser("content", help="the corpus as content: freshness, expiry, use")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    report = content_sub.add_parser("report", help="every card, guide and rule table: dates, status (ok / expiring / "
                                    "expired / review overdue), times served, thumbs-down")
    report.add_argument("--out", metavar="DIR", help="also write content-report.md and content-report.json here")
    report.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    report.set_defaults(func=cmd_content_report)

    _add_check_parsers(sub)

    health = sub.add_parser("health", help="the index build, corpus hash and rule tables a server would serve")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(func=cmd_health)

    bench = sub.add_parser("bench", help="latency and memory benchmark")
    bench.add_argument("--dataset", default=str(Settings().corpus_dir.parent / "evals" / "datasets"))
    bench.add_argument("--report", help="folder for bench.json")
    bench.add_argument("--no-torch", action="store_true", help="skip the torch fp32 baseline")
    bench.add_argument("--langchain", action="store_true",
                       help="also time the plain LangChain pipeline (HuggingFaceEmbeddings + FAISS, torch fp32)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
