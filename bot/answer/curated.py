"""Answerers. The curated one (default) composes reviewed card text; the LLM one lives in ``llm.py`` and falls back
to this one. Both get the same ``Context`` and return an ``Answer``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.answer.expiry import with_expiry
from bot.clock import today
from bot.config import Settings
from bot.lang import to_traditional
from bot.messages import message
from bot.schema import Answer, Card, Citation, Hit

# A second card is added when the question seems to span two topics (e.g. refund *and* payment): it must come from
# another topic and be nearly as close to the question as the first. Measured on the QA set (BENCHMARKS.md).
SECOND_CARD_MARGIN = 0.02
MAX_RANK_OF_SECOND = 3
# Two close cards of one topic (the e-CNY app and the hard wallet, linking a card and a refused card, the Hong Kong
# tour group and the Hainan one): when the classifier is sure of none among the top cards (none above UNSURE_TOP),
# an answer card it still gives SIBLING_MIN or more is shown too, so the visitor reads both instead of a coin flip.
# Measured on the development narratives and the QA sets (BENCHMARKS.md, eighth round).
UNSURE_TOP = 0.85
SIBLING_MIN = 0.15


@dataclass(frozen=True)
class Context:
    """Everything an answerer may use: the question, its language, and what retrieval returned for it."""

    question: str
    lang: str
    hits: tuple[Hit, ...]
    plan_hits: tuple[Hit, ...] = ()
    previous: str | None = None  # the earlier question this one was read as a follow-up to
    today: date | None = None  # the day the answer is for (expiry notices); None: ``clock.today()``


# The decline card for other cities' local matters, and the topics whose rules are national (the same everywhere).
LOCAL_DECLINE = "decline-other-cities"
NATIONAL_TOPICS = frozenset({"tax_refund", "transit", "entry", "payment"})
# The two kinds of decline card. A subject decline is about a subject we do not cover, whatever the wording: read
# with more context it stays out of scope, and beside answered parts it is one line (compose.py). A wording decline
# is about how a thing is asked (fraud, overstay, illegal work, evading the border): the same subject asked plainly
# is in scope, so it needs ``wording_decline_odds`` against an answer card. The personal medical/legal decline is
# neither here: it keeps the plain odds, and compose shows its card beside answered parts like a wording decline.
SUBJECT_DECLINES = frozenset({"decline-off-topic", "decline-politics", "decline-investment", "decline-instructions",
                              LOCAL_DECLINE})
WORDING_DECLINES = frozenset({"decline-fraud", "decline-overstay-legal", "decline-border-circumvention",
                              "decline-illegal-work"})


class CuratedAnswerer:
    """Answers only with card and guide text that a person wrote and reviewed, in the asker's language."""

    def __init__(self, cards: dict[str, Card], *, min_dense_score: float, decline_margin: float,
                 decline_odds: float, local_decline_odds: float, wording_decline_odds: float = 3.0) -> None:
        """No defaults here: the thresholds are ``Settings``' (``from_settings``), calibrated on the QA set."""
        self.cards = cards
        self.min_dense_score = min_dense_score
        self.decline_margin = decline_margin
        self.decline_odds = decline_odds
        self.local_decline_odds = local_decline_odds
        self.wording_decline_odds = wording_decline_odds

    @classmethod
    def from_settings(cls, cards: dict[str, Card], settings: Settings) -> CuratedAnswerer:
        return cls(cards, min_dense_score=settings.min_dense_score, decline_margin=settings.decline_margin,
                   decline_odds=settings.decline_odds, local_decline_odds=settings.local_decline_odds,
                   wording_decline_odds=settings.wording_decline_odds)

    # ------------------------------------------------------------ declines

    def decline(self, lang: str, card_id: str | None = None, reason: str = "") -> Answer:
        card = self.cards.get(card_id or "")
        text = card.answer.get(lang) or card.answer["en"] if card else message("out_of_scope", lang)
        return Answer(text=text, language=lang, refused=True, card_ids=(card.card_id,) if card else (),
                      escalation=card.escalation if card else "", notes=(reason,) if reason else ())

    def low_confidence(self, lang: str) -> Answer:
        return Answer(text=message("low_confidence", lang), language=lang, refused=True,
                      notes=("best match below the calibrated score threshold",))

    # ------------------------------------------------------------ answers

    def is_decline(self, hit: Hit) -> bool:
        card = self.cards.get(hit.chunk.doc_id) if hit.chunk.kind == "card" else None
        return card is not None and card.kind == "decline"

    def _odds_for(self, decline: Hit, rival: Hit) -> float:
        """How much more probable the decline card must be than the rival to decline. "Other cities" is about
        place, not subject: a national rule (the refund, transit, entry, payment) is the same in Shanghai as in
        Shenzhen, so against a card of those topics it needs ``local_decline_odds`` (a refund bought in Shanghai
        was once declined as "other cities" though its rules are national)."""
        card = self.cards.get(rival.chunk.doc_id)
        if decline.chunk.doc_id == LOCAL_DECLINE and card is not None and card.topic in NATIONAL_TOPICS:
            return self.local_decline_odds
        if decline.chunk.doc_id in WORDING_DECLINES:
            return self.wording_decline_odds
        return self.decline_odds

    def _answer_card_near(self, decline: Hit, others: Sequence[Hit]) -> Hit | None:
        """A factual card that stands up to the decline card at the top, if any.

        With the card classifier: the best-ranked answer card, unless the classifier finds the decline card at
        least ``decline_odds`` times as probable. Without one: an answer card in the next two places within
        ``decline_margin`` of the decline card's cosine."""
        rival = next((h for h in others if h.chunk.kind == "card" and h.chunk.doc_id in self.cards
                      and not self.is_decline(h)), None)
        if rival is not None and decline.card_probability is not None and rival.card_probability is not None:
            odds = self._odds_for(decline, rival)
            return rival if decline.card_probability < odds * rival.card_probability else None
        if decline.dense_score is None or self.decline_margin <= 0:
            return None
        for hit in others[:2]:
            if (hit.chunk.kind == "card" and not self.is_decline(hit) and hit.dense_score is not None
                    and hit.dense_score >= decline.dense_score - self.decline_margin):
                return hit
        return None

    def choose_cards(self, hits: Sequence[Hit], siblings: bool = True) -> list[tuple[Card, Hit]]:
        """The best card, and a second one when the question spans two topics, or (``siblings``) when retrieval
        cannot tell two close cards apart."""
        card_hits = [(self.cards[h.chunk.doc_id], h) for h in hits
                     if h.chunk.kind == "card" and h.chunk.doc_id in self.cards]
        if not card_hits:
            return []
        chosen = [card_hits[0]]
        first_card, first_hit = card_hits[0]
        for card, hit in card_hits[1:MAX_RANK_OF_SECOND]:
            if (card.kind == "answer" and card.topic != first_card.topic and hit.dense_score is not None
                    and first_hit.dense_score is not None
                    and hit.dense_score >= first_hit.dense_score - SECOND_CARD_MARGIN):
                chosen.append((card, hit))
                return chosen
        if siblings:
            top = card_hits[:MAX_RANK_OF_SECOND]
            if max(h.card_probability or 0.0 for _, h in top) <= UNSURE_TOP:
                rest = [(c, h) for c, h in top[1:] if c.kind == "answer" and (h.card_probability or 0.0) >= SIBLING_MIN]
                if rest:
                    chosen.append(max(rest, key=lambda ch: ch[1].card_probability or 0.0))
        return chosen

    def answer(self, ctx: Context, siblings: bool = True) -> Answer:
        """The curated answer: the chosen cards' reviewed text, cited and dated, or a decline. ``siblings``: see
        ``choose_cards`` (off where a computation already answers the exact question)."""
        if not ctx.hits:
            return self.decline(ctx.lang, reason="nothing retrieved")
        top = ctx.hits[0]
        hits = ctx.hits
        scope: Card | None = None
        if self.is_decline(top):
            rival = self._answer_card_near(top, ctx.hits[1:])
            if rival is None:
                return self.decline(ctx.lang, top.chunk.doc_id, reason="matched a decline card")
            # A legitimate question that merely sounds like a refusal case ("can I work on visa-free entry?")
            # gets the factual answer when a factual card is about as close.
            hits = (rival, *[h for h in ctx.hits if h is not rival])
            if top.chunk.doc_id == LOCAL_DECLINE:
                scope = self.cards[LOCAL_DECLINE]  # the national rule, then what we cannot say about that city
        if top.dense_score is not None and top.dense_score < self.min_dense_score:
            return self.low_confidence(ctx.lang)
        chosen = self.choose_cards(hits, siblings)
        if not chosen:
            return self._from_passage(ctx, top)
        lines: list[str] = []
        if ctx.previous:
            lines.append(message("followup_assumed", ctx.lang, previous=ctx.previous))
        citations: list[Citation] = []
        for card, hit in chosen:
            lines += self.card_text(card, ctx.lang)
            citations += [Citation(s.title, s.url, card.card_id, hit.chunk.chunk_id) for s in card.sources]
        if scope is not None:
            lines += self.card_text(scope, ctx.lang)
        plan_line, plan_citation = self._plan_line(ctx, [c for c, _ in chosen])
        if plan_line:
            lines.append(plan_line)
            citations.append(plan_citation)  # type: ignore[arg-type]
        escalations = list(dict.fromkeys(c.escalation for c, _ in chosen if c.escalation))
        lines += [message(f"escalation_{e}", ctx.lang) for e in escalations]
        # A card past its valid_until gets its expiry notice right after its text, 12367 and a note (expiry.py).
        return with_expiry(Answer(
            text="\n\n".join(lines), language=ctx.lang, citations=tuple(citations),
            valid_as_of=min(c.valid_as_of for c, _ in chosen), card_ids=tuple(c.card_id for c, _ in chosen),
            escalation=",".join(escalations),
        ), [c for c, _ in chosen], ctx.today or today())

    def card_text(self, card: Card, lang: str) -> list[str]:
        """A card's reviewed answer in ``lang``; English with a one-line note when the card lacks that language."""
        text = card.answer.get(lang)
        if text is None:
            return [message("fallback_english", lang), card.answer["en"]]
        return [text]

    def _plan_line(self, ctx: Context, cards: Sequence[Card]) -> tuple[str, Citation | None]:
        """A "from the plan" line when retrieval found a measure that the chosen card serves."""
        served = {m for c in cards for m in c.measures}
        for hit in ctx.plan_hits:
            measure = hit.chunk.measures[0] if hit.chunk.measures else None
            if measure in served:
                title = hit.chunk.title.split(": ", 1)[-1]
                if ctx.lang == "zh-Hant":
                    title = to_traditional(title)
                source = hit.chunk.sources[0]
                citation = Citation(f"{source.title}, Measure {measure}", source.url, hit.chunk.doc_id,
                                    hit.chunk.chunk_id, measure)
                return message("plan_line", ctx.lang, n=measure, title=title), citation
        return "", None

    def _from_passage(self, ctx: Context, hit: Hit) -> Answer:
        """No card matched: show the best guide or plan passage, converted to the asker's script if Chinese."""
        chunk = hit.chunk
        text = chunk.text
        lines = []
        if ctx.lang == "zh-Hant" and chunk.lang == "zh-Hans":
            text = to_traditional(text)
        elif chunk.lang != ctx.lang and not (ctx.lang == "zh-Hant" and chunk.lang.startswith("zh")):
            lines.append(message("fallback_english", ctx.lang))
        lines.append(text)
        citations = tuple(Citation(s.title, s.url, chunk.doc_id, chunk.chunk_id) for s in chunk.sources)
        return Answer(text="\n\n".join(lines), language=ctx.lang, citations=citations,
                      valid_as_of=chunk.valid_as_of, notes=("answered from a passage; no card matched",))
