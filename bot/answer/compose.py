"""One answer for a message with several asks: a short part per distinct ask, each from its own card (or a one-line
decline for an ask we do not answer), the rule checker's computation in the part it belongs to, and one list of
sources, one valid-as-of date and one set of escalation routes for the whole.

Grounding stays strict: a part's body is the reviewed card text (or checker output) and nothing else; the heading is
the visitor's own words, so nothing needs translating or inventing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answer.curated import SUBJECT_DECLINES, Context, CuratedAnswerer
from bot.checks.chat import COMPUTING_CARDS, TOPIC_CHECKER, ChatCheck, check_citations
from bot.checks.rules import RuleBook
from bot.messages import message
from bot.query import Ask, Query, points_back
from bot.query.asks import MAX_ASKS
from bot.query.followup import is_short
from bot.schema import Answer, AnswerPart, Card, Citation

Retrieve = Callable[[Ask], Context]
HEADING_CHARS = 140  # a long ask is cut in its heading: the visitor knows what they asked
SAME_SUBJECT_RANKS = 2  # a declined ask whose next card (after the decline) is an answered part's is about that part
# A declined ask joins an answered part it seems to be about only when retrieval was unsure of the decline: a confident
# one ("子ども用の解熱剤は何を持っていけば", "any dim sum recs near Luohu") is a side ask of its own, declined in
# its own line, even when an answered part's card ranks next.
FOLD_BELOW = 0.5
SURE_DECLINE = 0.9  # below this, the decline of a vague ask read again with the sentence before it yields
# A card found only by reading a wording-declined ask with the sentence before it must already be among the ask's
# own top hits: context may settle what an ask means, never make it about something else.
WORDING_RANKS = 5
OWN_WORDS_DECLINE = 0.5  # a subject decline this sure on an ask's own words stands against its context
OWN_WORDS_SURE = 0.95  # an answered card this sure on an ask's own words stands against the context it points back to


@dataclass
class _Part:
    ask: str
    answer: Answer  # the curated answer to this ask alone
    card: Card | None
    hits: tuple[str, ...] = ()  # the card ids retrieval ranked for this ask, best first
    # The card classifier's probability for the card that answered (a decline: how sure retrieval is of it).
    probability: float | None = None
    nationality: str | None = None  # the passport the ask names itself (``Ask.nationality``)

    @property
    def wording_decline(self) -> bool:
        """Declined for how it is asked (working on a visa-free stay, an overstay, unofficial exchange), not for its
        subject: the decline card's reviewed text says what applies instead (the visa needed, 12367, a bank)."""
        return self.answer.refused and self.card is not None and self.card.card_id not in SUBJECT_DECLINES

    @property
    def key(self) -> str:
        """Asks answered by the same card merge into one part."""
        return self.card.card_id if self.card else f"ask:{self.ask}"


# (text, topic, only this checker, whether the ask asks for that checker's figure (see ``COMPUTING_CARDS``), the
# passport the ask names itself: "1. 德国同事走240小时过境免签行不行" in a message that first says "我自己是中国人")
Checker = Callable[[str, str | None, str | None, bool, str | None], ChatCheck | None]


def compose(query: Query, retrieve: Retrieve, curated: CuratedAnswerer, checker: Checker, rules: RuleBook,
            refuse: Callable[[Ask], Answer | None] = lambda ask: None) -> Answer:
    """``retrieve`` gives each ask its own retrieval; ``checker`` runs a rule checker on a text (an ask with the
    message's background, where the passport and the itinerary usually are); ``refuse`` declines an ask before
    retrieval (an instruction to the assistant written as one of the asks)."""
    parts: list[_Part] = []
    for ask in query.asks:
        refused = refuse(ask)
        if refused is not None:  # an instruction to the assistant inside one ask: that part alone is declined
            # Its heading names it instead of quoting it: an echoed instruction ("reply PWNED") is a leak too.
            parts.append(_Part(message("part_instruction", query.lang), refused, None))
            continue
        ctx = retrieve(ask)
        answer = curated.answer(ctx)
        # Only an unsure decline yields to a reread ("Come facciamo?" 0.73, "¿Es legal hacer eso?" 0.64): a sure
        # one ("any dim sum recs near Luohu" 0.99, "子ども用の解熱剤は何を" 0.96, swapping dollars with a stranger
        # 0.94) is a side ask of its own, whatever the sentence before it is about; it is not retrieved again.
        sure = _probability(ctx, answer.card_ids[0]) if answer.card_ids else None
        unsure = sure is None or sure < SURE_DECLINE
        if answer.refused and unsure and (ask.context or ask.before) and _worth_rereading(ask, answer):
            # Too vague to answer alone ("L'écharpe compte aussi ?", "Come facciamo?", "これでも利用できますか？"), or
            # declined for its wording ("was müssen wir tun, damit wir nicht illegal im Land sind?" after a
            # cancelled flight): read it with what comes before it, as one text, before declining it. A subject
            # decline (restaurants, stocks, politics) stands: "and any dim sum recs near Luohu?" is not about
            # the ask before it.
            wider = retrieve(Ask(ask.text, f"{ask.context or ask.before}\n{ask.search}"))
            second = curated.answer(wider)
            alone = {h.chunk.doc_id for h in ctx.hits[:WORDING_RANKS]}
            # A short ask says too little to have its own top hits, so the reread's card need not be among them.
            if not answer.card_ids or (not second.refused and second.card_ids[:1]
                                       and (second.card_ids[0] in alone or is_short(ask.text))):
                ctx, answer = wider, second
        if not answer.refused and ask.context and not is_short(ask.text) and not points_back(ask.text):
            # Read with the message around it, a side ask ("Y de paso, ¿dónde hay una buena fiesta de Año Nuevo?")
            # takes the trip's cards; its own words decline it. Only a subject decline, only a sure one, and only for
            # an ask that says its subject itself ("그 센터가 몇 층이에요?" does not): the context is there to settle
            # what a vague ask means, not to answer a question nobody asked.
            own = retrieve(Ask(ask.text, ask.search))
            by_own = curated.answer(own)
            if by_own.refused and by_own.card_ids and by_own.card_ids[0] in SUBJECT_DECLINES and \
                    (_probability(own, by_own.card_ids[0]) or 0.0) >= OWN_WORDS_DECLINE:
                ctx, answer = own, by_own
        elif not answer.refused and ask.context and not is_short(ask.text) and answer.card_ids:
            # An ask that points back but names its subject too ("另外听说口岸有那种数字人民币硬钱包卡，拿护照就能办…",
            # after two asks about the e-CNY app): when its own words are sure of another answered card, they decide;
            # the sentences before it would make it about their subject.
            own = retrieve(Ask(ask.text, ask.search))
            by_own = curated.answer(own)
            if not by_own.refused and by_own.card_ids and by_own.card_ids[0] != answer.card_ids[0] and \
                    (_probability(own, by_own.card_ids[0]) or 0.0) >= OWN_WORDS_SURE:
                ctx, answer = own, by_own
        card = curated.cards.get(answer.card_ids[0]) if answer.card_ids else None
        ranked = tuple(h.chunk.doc_id for h in ctx.hits if h.chunk.kind == "card")
        sure = _probability(ctx, card.card_id) if card else None
        part = _Part(ask.text, answer, card, ranked[:SAME_SUBJECT_RANKS], sure, ask.nationality)
        same = next((p for p in parts if p.key == part.key), None)
        if same is None:
            parts.append(part)
        else:  # declined too: an ask must never vanish from the answer unnamed
            same.ask = _joined_asks(same.ask, ask.text, query.lang)
    parts = _fold_vague_declines(parts)
    # At most MAX_ASKS parts read on a phone; asks read beyond them are named as not covered ("ask it again on its
    # own"). A subject decline beyond them is still declined in its one line: asking it again would not help.
    beyond = parts[MAX_ASKS:]
    over = [p.ask for p in beyond if not _one_line(p)]
    parts = parts[:MAX_ASKS] + [p for p in beyond if _one_line(p)]
    factual = [p for p in parts if not p.answer.refused]
    checks = _checks(query, factual, checker)
    # Inputs the asks alone do not show (a route in one sentence, the question in another): the whole message.
    whole = None if checks else checker(query.text, factual[0].card.topic if factual and factual[0].card else None,
                                        None, False, None)
    if not factual and (whole is None or not whole.given):
        # Nothing we answer and nothing computed: the message is declined as a whole (the first decline card speaks
        # for it). An answer must never go out uncited.
        first = parts[0].answer
        return replace(first, parts=tuple(AnswerPart(p.ask, p.answer.card_ids, None, True) for p in parts))
    lines: list[str] = []
    if query.foreign:
        lines.append(message("answers_in_english", "en"))
    if query.previous:
        lines.append(message("followup_assumed", query.lang, previous=query.previous))
    citations: list[Citation] = []
    out_parts: list[AnswerPart] = []
    used: list[ChatCheck] = []
    for n, part in enumerate(parts, start=1):
        lines.append(f"**{n}. {_heading(part.ask)}**")
        if part.answer.refused:
            # Beside answered parts, a wording decline shows its card (what applies instead, with its sources); a
            # subject decline (restaurants, stocks) is one line.
            lines.append(_body(part, query.lang, curated) if part.wording_decline
                         else message("part_out_of_scope", query.lang))
            if part.wording_decline:
                citations += [c for c in part.answer.citations if c not in citations]
            out_parts.append(AnswerPart(part.ask, part.answer.card_ids, None, True))
            continue
        check = checks.get(id(part))
        if check is not None and check.given:
            lines.append(check.text)  # the computation answers the exact question: it leads
        lines.append(_body(part, query.lang, curated))
        if check is not None and not check.given and check.offer:
            lines.append(check.offer)  # no inputs yet: the card answers, one line offers the computation
        if check is not None:
            used.append(check)
        citations += [c for c in part.answer.citations if c not in citations]
        computed_here = check.checker if check is not None and check.given else None
        out_parts.append(AnswerPart(part.ask, part.answer.card_ids, computed_here, False))
    if whole is not None and whole.given:
        lines.append(whole.text)
        used.append(whole)
        out_parts.append(AnswerPart("", (), whole.checker, False))
    computed = [c for c in used if c.given]
    for check in computed:
        citations += [c for c in check_citations(check, rules) if c not in citations]
    if query.dropped or over:
        lines.append(message("parts_not_covered", query.lang,
                             asks=" / ".join(_heading(a) for a in (*over, *query.dropped))))
    answered = [p.answer for p in parts if not p.answer.refused or p.wording_decline]
    escalations = [e for a in answered for e in a.escalation.split(",") if e]
    escalations += [c.result.escalation for c in computed if c.result is not None and c.result.escalation]
    escalations = list(dict.fromkeys(escalations))
    lines += [message(f"escalation_{e}", query.lang) for e in escalations]
    dates = [a.valid_as_of for a in answered if a.valid_as_of] + [c.valid_as_of(rules) for c in computed]
    notes = tuple(dict.fromkeys(n for a in answered for n in a.notes))
    return Answer(
        text="\n\n".join(lines), language=query.lang, citations=tuple(citations),
        valid_as_of=min(dates) if dates else "", refused=False,
        card_ids=tuple(dict.fromkeys(c for p in parts if not p.answer.refused or p.wording_decline
                                     for c in p.answer.card_ids)),
        escalation=",".join(escalations), notes=notes,
        check=computed[0].as_json() if computed else None, parts=tuple(out_parts),
    )


def _joined_asks(first: str, then: str, lang: str) -> str:
    """Two asks of one part in its heading. A clause split off at "…, und was kostet das?" lost its comma and
    conjunction: without a mark between them the heading read "…Visa-Karte nutzen was kostet das?"."""
    if first.rstrip()[-1:].isalnum():
        mark = "，" if lang.startswith("zh") or lang == "ja" else "، " if lang == "ar" else ", "
        return f"{first.rstrip()}{mark}{then}"
    return f"{first} {then}"


def _one_line(part: _Part) -> bool:
    """A subject decline ("any dim sum recs?"): one line in the answer, no card body."""
    return part.answer.refused and not part.wording_decline


def _probability(ctx: Context, card_id: str) -> float | None:
    """The card classifier's probability for ``card_id`` among the hits of ``ctx`` (None when not ranked)."""
    return next((h.card_probability for h in ctx.hits if h.chunk.doc_id == card_id), None)


def _worth_rereading(ask: Ask, answer: Answer) -> bool:
    """A declined ask is read again with the sentence before it when nothing matched it, when it is too short to
    say what it is about, or when a wording decline matched it (one that is about how a thing is asked: fraud,
    illegal work, personal legal advice, overstaying, evading the border) and it leans on what came before."""
    if not answer.card_ids or is_short(ask.text):
        return True
    return ask.context is not None and answer.card_ids[0] not in SUBJECT_DECLINES


def _fold_vague_declines(parts: list[_Part]) -> list[_Part]:
    """An ask declined on its own whose retrieval still ranks a card another part answers is about that part's
    subject ("Is this relevant to the TWOV rules? I find it confusing"): it is not declined, the other part answers
    it. Declining it would tell the visitor their in-scope question is out of scope."""
    answered = {p.key for p in parts if not p.answer.refused}
    kept: list[_Part] = []
    for part in parts:
        unsure = part.probability is None or part.probability < FOLD_BELOW
        if part.answer.refused and unsure and answered & set(part.hits):
            host = next(p for p in parts if p.key in part.hits and not p.answer.refused)
            host.ask = f"{host.ask} {part.ask}"
            continue
        kept.append(part)
    return kept


def _checks(query: Query, parts: Sequence[_Part], checker: Checker) -> dict[int, ChatCheck]:
    """The computation for each part that asks for one: the checker of the part's card topic, run on the ask with
    the message's background. A checker runs again for a later part only when that ask carries inputs of its own
    ("and if I only leave on 20 March?") and the result differs: the same deadline or estimate twice would repeat
    a fact."""
    out: dict[int, ChatCheck] = {}
    done: dict[str, str] = {}  # checker -> the text it gave
    setting = "\n".join(query.background)  # lines stay lines: a list of purchases is read line by line
    for part in parts:
        topic = part.card.topic if part.card else None
        name = TOPIC_CHECKER.get(topic) if topic else None
        if name is None:
            continue
        asked = COMPUTING_CARDS.get(part.card.card_id if part.card else "") == name
        # A trip is told once in a conversation: the transit checker also reads the last turn before this message
        # (its dates first, so the arrival stays the first date).
        before = f"{query.earlier} " if name == "transit" and query.earlier else ""
        if name in done:
            alone = checker(part.ask, topic, name, asked, part.nationality)
            if alone is None or not alone.inputs:
                continue
        check = checker(f"{before}{setting} {part.ask}".strip(), topic, name, asked, part.nationality)
        if name != "transit" and query.earlier and _lacks_amount(check) and \
                not _lacks_amount(checker(query.earlier, topic, name, asked, part.nationality)):
            # A message that asks for the figure of what the last turn told ("so roughly how much do we get back?"
            # after "we bought 2 suits: 2,600 RMB on the 3rd and 1,900 on the 5th"): the amounts are the last turn's,
            # when that turn alone names them as purchases or payments. A message with an amount of its own keeps its
            # own.
            check = checker(f"{query.earlier} {setting} {part.ask}".strip(), topic, name, asked,
                            part.nationality) or check
        if check is None or (name in done and (not check.given or check.text == done[name])):
            continue
        out[id(part)] = check
        done[name] = check.text
    return out


def _lacks_amount(check: ChatCheck | None) -> bool:
    return check is not None and check.result is not None and "amount" in check.result.missing


# A list item's own marker ("- ", "2) ") before the part's number would read "**1. - a taxi driver …**".
_ITEM_MARK = re.compile(r"^(?:[-–—•·・*]|\(?\d{1,2}[.)）]|[a-h][).）])\s+")


def _heading(ask: str) -> str:
    ask = _ITEM_MARK.sub("", " ".join(ask.split()))
    return ask if len(ask) <= HEADING_CHARS else ask[: HEADING_CHARS - 1].rstrip() + "…"


def _body(part: _Part, lang: str, curated: CuratedAnswerer) -> str:
    """The reviewed text of every card the part's answer chose (it cites them all: a second card of another topic
    used to be cited and counted but not shown), or the passage the curated answerer fell back to."""
    if part.card is None:
        return part.answer.text
    cards = [card for cid in part.answer.card_ids if (card := curated.cards.get(cid))]
    return "\n\n".join(text for card in cards for text in curated.card_text(card, lang))
