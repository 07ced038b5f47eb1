"""Start the web page on the embedded default model: `python app.py` (see README for settings)."""

import logging

from bot.config import Settings
from bot.feedback import FeedbackStore
from bot.pipeline import Bot
from bot.web import launch

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    bot = Bot.load(settings)
    bot.ask("warm-up: tax refund")  # first-call costs (tokenizer, jieba dictionary) before the first visitor
    launch(bot, FeedbackStore(settings.feedback_db), settings.host, settings.port, settings.concurrency)
