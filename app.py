"""Start the web page on the embedded default model: `python app.py` (see README for settings)."""

import logging
import warnings

from bot.config import Settings
from bot.feedback import FeedbackStore
from bot.pipeline import Bot
from bot.web import launch

if __name__ == "__main__":
    # Gradio 6.17 triggers a Starlette deprecation warning on every API call: a line per request drowns the log.
    warnings.filterwarnings("ignore", message=".*HTTP_422_UNPROCESSABLE_ENTITY.*")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    bot = Bot.load(settings)
    bot.ask("warm-up: tax refund")  # first-call costs (tokenizer, jieba dictionary) before the first visitor
    bot.ask("hoan thue")  # ... and the tables short Latin-script and unaccented Vietnamese questions use
    launch(bot, FeedbackStore(settings.feedback_db), settings.host, settings.port, settings.concurrency)
