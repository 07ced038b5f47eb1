"""Start the web page on the embedded default model: `python app.py` (see README for settings)."""

import logging
import sys
import threading
import warnings

from bot.config import Settings
from bot.errors import BotError
from bot.serve.pipeline import Bot
from bot.serve.threads import apply_threads
from bot.store.postgres import open_store
from bot.web.page import launch


def main() -> int:
    # Gradio 6.17 triggers a Starlette deprecation warning on every API call: a line per request drowns the log.
    warnings.filterwarnings("ignore", message=".*HTTP_422_UNPROCESSABLE_ENTITY.*")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # A mistyped or malformed BOT_* variable, a missing index or model: one line saying what to do, no traceback.
        settings = Settings.from_env()
        apply_threads(settings.threads)  # before the model loads: a replica's share of the cores (threads.py)
        bot = Bot.load(settings)
        store = open_store(settings.feedback_dsn, settings.feedback_db)  # PostgreSQL when BOT_FEEDBACK_DSN is set
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bot.ask("warm-up: tax refund")  # first-call costs (tokenizer, jieba dictionary) before the first visitor
    bot.ask("hoan thue")  # ... and the tables short Latin-script and unaccented Vietnamese questions use
    # The rest of the first-use loads (jieba, py3langid, the checkers' phrases) on a side thread: the page does not
    # wait for them, and the first Chinese question no longer does either.
    threading.Thread(target=bot.warm_up, name="warm-up", daemon=True).start()
    launch(bot, store, settings.host, settings.port, settings.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
