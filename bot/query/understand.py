"""Query understanding: a raw message and its conversation in, one typed ``Query`` out.

Everything after this stage (retrieval, answering, the rule checkers, the report) reads the message through this
value, so the chat, the CLI and the benchmark understand a message the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.lang import LangGuess, detect, fold, unserved_language
from bot.query.asks import MAX_READ, Segment, segments
from bot.query.cantonese import to_written
from bot.query.followup import follow_up_of, is_elliptical, is_short, previous_user_turn, size_in_words
from bot.query.vi_diacritics import has_accents


@dataclass(frozen=True)
class Ask:
    """One question of a message."""

    text: str  # as the visitor typed it: the heading of its part of the answer
    search: str  # the same in the register retrieval reads best (Vietnamese accents, written Chinese)
    # What to rank together with it when it leans on the rest of the message ("is that allowed?"): the background
    # and the asks before it. None when it stands on its own.
    context: str | None = None
    # The sentence right before it, to read it with when it is too vague to answer alone ("これでも利用できますか？"
    # after the sentence naming the instant refund and the debit card).
    before: str | None = None
    # The background sentence right before a short ask that only asks what to do about it ("Il mio bancomat non si
    # collega ad Alipay. Come facciamo?"): the ask is read as one text with it. None otherwise.
    lead: str | None = None
    # The passport this ask names itself ("Con mình hộ chiếu VN thì có được miễn visa không?" in a message about a
    # Vietnamese mother and an American husband), else None: the message's passport is then the one that counts.
    nationality: str | None = None


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned message
    lang: str  # the language and script of the answer: one of ours
    search: str  # the whole message in the register retrieval reads best
    asks: tuple[Ask, ...]  # at most MAX_READ, in the order asked; one for a plain question
    background: tuple[str, ...] = ()  # sentences that ask nothing (trip, family, what happened)
    dropped: tuple[str, ...] = ()  # asks beyond MAX_READ: named in the answer as not covered
    previous: str | None = None  # the earlier question this message continues (a follow-up)
    # The language the message was written in when we do not serve it (e.g. "pl"): the answer is in English and
    # says so. None for our 15 languages.
    foreign: str | None = None
    # The passport the message (or, failing that, the question it follows up) names, ISO 3166-1 alpha-2: cards
    # written for one nationality are not answered to another (``Card.nationalities``).
    nationality: str | None = None
    # The conversation's last user turn, whatever this message is: the trip a later message goes on about ("the
    # airline cancelled our flight on the 14th…" after "we land in Shenzhen on 5 January…").
    earlier: str | None = None

    @property
    def multi(self) -> bool:
        return len(self.asks) > 1


# A message this short is one question however it is punctuated ("有英文版吗？在哪里看", "Can I link a Taiwan card to
# Alipay? How do I set it up?"): its halves lean on each other, and one retrieval of the whole reads it best
# (splitting such FAQ-shaped questions cost 5 expected cards on the development set, BENCHMARKS.md).
SHORT_MESSAGE_WORDS = 15
# An ask this short right after an ask goes on with it ("한국 여권은 이제 무비자 맞죠? 며칠까지 되나요?", "需要去派出所
# 登记吗？多久之内？"): it is read with that ask. A longer one says what it asks ("Se no, che alternative abbiamo?").
BARE_FOLLOW_ON_WORDS = 4
SELF_CONTAINED_WORDS = 8  # this many words before a demonstrative: it points inside the ask (``_context``)

Lexicon = Callable[[str], str | None]  # a few Latin-script words -> the language whose cards use them
Restorer = Callable[[str], str]  # Vietnamese without accents -> with accents


def language(text: str, history: Sequence[str], lexicon: Lexicon | None = None) -> str:
    """The question's language and script; short or ambiguous ones take the conversation's, then English."""
    guess = detect(text)
    if guess.confident:
        return guess.lang
    previous = previous_user_turn(history)
    context: LangGuess | None = detect(previous) if previous else None
    if context and context.confident and (not guess.lang.startswith("zh") or context.lang.startswith("zh")):
        return context.lang
    if guess.lang.startswith("zh"):
        return guess.lang
    # A few Latin-script words: the corpus's own vocabulary decides ("número ambulancia" is Spanish), else English.
    return (lexicon(text) if lexicon else None) or "en"


def for_retrieval(text: str, lang: str, restore: Restorer | None = None) -> str:
    """The text in the register the embedding model reads best; the answer still quotes what was typed.
    Vietnamese typed without a single accent gets them back ("hoan thue" -> "hoàn thuế", ``vi_diacritics.py``);
    colloquial Cantonese becomes written Chinese ("使唔使" -> "需不需要", ``cantonese.py``)."""
    if lang == "vi" and restore is not None and not has_accents(text):
        return restore(text)
    if lang == "zh-Hant":
        return to_written(text)
    return text


def understand(text: str, history: Sequence[str] = (), lang: str | None = None, *,
               lexicon: Lexicon | None = None, restore: Restorer | None = None) -> Query:
    """``text`` and ``history`` are already cleaned and guarded (``clean.py``, ``guard.py``)."""
    foreign = None if lang else unserved_language(text)
    lang = lang or ("en" if foreign else language(text, history, lexicon))
    previous = follow_up_of(text, history)
    earlier = previous_user_turn(history)
    parts = _joined(segments(text))
    asked = [i for i, s in enumerate(parts) if s.is_ask]
    background = tuple(s.text for s in parts if not s.is_ask)
    kept, dropped = asked[:MAX_READ], tuple(parts[i].text for i in asked[MAX_READ:])
    if len(kept) <= 1 or size_in_words(text) <= SHORT_MESSAGE_WORDS:
        # One ask: the whole message is it (background included), exactly as a plain question was always read.
        asks: tuple[Ask, ...] = (Ask(text, for_retrieval(text, lang, restore), None),)
    else:
        # A topic named before the asks ("Cho mình hỏi về hoàn thuế. … 2. Làm thủ tục ở sân bay được không?") is the
        # context of an ask that has none of its own.
        topic = next((j for j, s in enumerate(parts) if s.topic), None)
        asks = tuple(_ask(parts, i, topic, lang, restore, earlier) for i in kept)
    return Query(text, lang, for_retrieval(text, lang, restore), asks, background, dropped, previous, foreign,
                 passport(text, lang) or (passport(previous, lang) if previous else None), earlier)


def passport(text: str, lang: str) -> str | None:
    """The nationality a text names ("passaporte brasileiro", "I'm American", "日本のパスポート"), with the rule
    checkers' own place reader, so the checker and retrieval never disagree about it."""
    from bot.checks.extract_places import assign_roles, find_places
    from bot.checks.extract_text import prepare

    prepared = prepare(text, lang)
    return assign_roles(prepared, find_places(prepared)).nationality


# A person an ask is about ("สามีใช้ฟรีวีซ่า 240 ชั่วโมงได้ไหมคะ", "Can my wife use the 240h?"), on folded text.
_RELATIVE_PERSON = re.compile(
    r"\b(?:husband|wife|son|daughter|mom|mum|mother|dad|father|parents|friend|colleague|coworker|boss|partner|"
    r"girlfriend|boyfriend|brother|sister|mari|femme|fils|fille|mere|maman|pere|papa|ami|amie|collegue|patron|"
    r"marido|esposo|esposa|mujer|hijo|hija|madre|padre|padres|amigo|amiga|colega|jefe|novio|novia|mann|frau|"
    r"sohn|tochter|mutter|mama|vater|eltern|freund|freundin|kollege|kollegin|chef|mulher|filho|filha|mae|pai|"
    r"namorado|namorada|chefe|marito|moglie|figlio|figlia|mamma|genitori|amico|amica|collega|capo|"
    r"муж|жена|сын|дочь|мама|мать|папа|отец|родители|друг|подруга|коллега|начальник|chong|con trai|con gai|"
    r"dong nghiep|suami|istri|anak|ibu|ayah|bapak|teman|rekan|bos|pacar)\b|"
    r"老公|丈夫|先生|老婆|妻子|太太|儿子|女儿|妈妈|母亲|爸爸|父亲|父母|朋友|同事|老板|男朋友|女朋友|"
    r"(?<!大丈)夫(?!婦)|妻|息子|両親|友達|友人|同僚|上司|彼氏|彼女|남편|아내|와이프|아들|딸|엄마|어머니|아빠|아버지|"
    r"부모님|친구|동료|상사|สามี|แฟน|ภรรยา|ลูก|แม่|พ่อ|เพื่อนร่วมงาน|เพื่อน|เจ้านาย|"
    r"زوجي|زوجتي|ابني|ابنتي|امي|ابي|والدي|صديقي|زميلي"
)
RELATIVE_WINDOW = 40  # characters after the person word (or 15 before: "德国同事", "Australian husband")


def relative_passport(ask: str, sentences: Sequence[str], lang: str) -> str | None:
    """The passport of the person an ask is about, told elsewhere in the message: "Can my husband use the 240h?"
    after "สามีเป็นคนออสเตรเลีย ส่วนดิฉันถือพาสปอร์ตไทย" is the Australian's ask, not the Thai's. The nationality
    nearest the same person word in another sentence, within its clause; None when the ask names no person or no
    sentence ties one to a passport."""
    from bot.checks.extract_places import MAINLAND, find_places
    from bot.checks.extract_text import CLAUSE_END, prepare

    person = _RELATIVE_PERSON.search(fold(ask))
    if person is None:
        return None
    word = person.group()
    # The ask's own words first: "德国同事走240小时过境免签行不行" is the German colleague's, whoever else is one.
    for sentence in (ask, *(s for s in sentences if s != ask)):
        if word not in fold(sentence):
            continue
        t = prepare(sentence, lang)
        places = [p for p in find_places(t) if p.kind != "city" and p.code != MAINLAND]
        for m in re.finditer(re.escape(word), t.folded):
            near: list[tuple[int, str]] = []
            for place in places:
                lo, hi = (m.end(), place.start) if place.start >= m.end() else (place.end, m.start())
                gap = hi - lo
                within = gap <= (RELATIVE_WINDOW if place.start >= m.end() else 15)
                # Thai writes no commas: a space ends the clause ("สามีเป็นคนอเมริกัน ดิฉันเป็นคนไทย")
                ended = CLAUSE_END.search(t.folded, lo, hi) or (lang == "th" and " " in t.folded[lo:hi])
                if within and not ended:
                    near.append((gap, place.code))
            if near:
                return min(near)[1]
    return None


# An ask that only checks the ask right before it ("Is that actually a thing", "진짜인가요?", "本当ですか？") is part
# of it: answered apart it would be declined as too vague. (An alternative, "…240小時過境免簽？定係要報旅行團嗰種
# 144小時？", is not: it is often answered by another card.)
_CHECKS_IT = re.compile(r"\b(?:really|true|right|correct|a thing|verdad|cierto|vrai|wirklich|stimmt|davvero|vero|"
                        r"verdade|правда|benar|that so)\b|真的|本当|진짜|정말|사실|จริง|صحيح")


def _joined(parts: Sequence[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for part in parts:
        prior = out[-1] if out else None
        if prior is not None and prior.is_ask and part.is_ask and is_short(part.text) and \
                _CHECKS_IT.search(fold(part.text)):
            out[-1] = Segment(f"{prior.text} {part.text}", True)
        else:
            out.append(part)
    return out


# A demonstrative points back into the message ("dove si trovano questi punti?", "can I do that on the 240hr
# visa free?", "これでも利用できますか"): the ask names its subject only there. On folded text; words that are
# also a verb or an article once accents go ("está", "das") are left out.
_ANAPHOR = re.compile(
    r"\b(?:this|that|these|those|such|cet|cette|ces|ca|cela|esto|estos|estas|eso|esos|esas|ese|esa|estes|esse|"
    r"essa|esses|essas|isso|isto|aquilo|desse|dessa|desses|dessas|disso|nesse|nessa|nisso|questo|questa|questi|queste|quello|quella|quelli|quelle|dieser|diese|"
    r"dieses|diesen|dafur|damit|das(?=\s*(?:[?,.!]|und\b|oder\b|$))|этот|эта|это|эти|этом|этого|этим|такой|itu|ini|tersebut)\b|"
    # Vietnamese "ví này" (this wallet), "cái đó"; folded, so not "hôm nay" (today) or "hiện nay" (nowadays)
    r"(?<!\bhom )(?<!\bhien )(?<!\bbay gio )\bnay\b|\bcai (?:do|ay)\b|"
    r"这个|那个|这些|那些|这样|那样|这种|那种|它|これ|それ|あれ|この|その|あの|이거|그거|이것|그것|이런|그런|"
    r"(?<![가-힣])(?:그|저)\s(?=[가-힣])|"
    r"นี้|นั้น|นั่น|นี่|(?<![\u0600-\u06ff])(?:هذا|هذه|ذلك|تلك)(?![\u0600-\u06ff])"
)


def points_back(text: str) -> bool:
    """The ask names its subject only with a demonstrative ("그 센터가 몇 층이에요?", "where are these points?")."""
    return _ANAPHOR.search(fold(text)) is not None


def _ask(parts: Sequence[Segment], i: int, topic: int | None, lang: str, restore: Restorer | None,
         earlier: str | None) -> Ask:
    """Ask ``i`` of the message's segments, with what to read it with (the sentence before it read once)."""
    before = for_retrieval(parts[i - 1].text, lang, restore) if i else None
    context = _context(parts, i, lang, restore, earlier) or (
        for_retrieval(parts[topic].text, lang, restore) if topic is not None and topic < i else None)
    header = parts[i].header  # a list item is read with the question it completes ("Which number … if:")
    lead = for_retrieval(header, lang, restore) if header else before if _leads(parts, i) else None
    return Ask(parts[i].text, for_retrieval(parts[i].text, lang, restore), context, before, lead,
               passport(parts[i].text, lang) or relative_passport(parts[i].text, [p.text for p in parts], lang))


def _leads(parts: Sequence[Segment], at: int) -> bool:
    """A short ask right after a sentence that tells what happened ("…la app da errore. Come facciamo?", "…私は楽天の
    デビットカードしか持っていません。これでも利用できますか？") is about that sentence alone: its own words rank
    generic cards (setting up Alipay, cash), and the sentence before that one (the trip) pulls in others. After an
    ask, only an ask of at most BARE_FOLLOW_ON_WORDS words ("多久之内？") is read with it; a longer one ("Se no, che
    alternative abbiamo?") says what it asks: no lead."""
    if at == 0 or not is_short(parts[at].text):
        return False
    before = parts[at - 1]
    return not (is_short(before.text) or (before.is_ask and size_in_words(parts[at].text) > BARE_FOLLOW_ON_WORDS))


def _context(parts: Sequence[Segment], at: int, lang: str, restore: Restorer | None,
             earlier: str | None = None) -> str | None:
    """An ask that says little on its own ("How do we do that?", "is that allowed?") or points back with a
    demonstrative ("where are these points?") is ranked together with what comes right before it (the sentence
    that says what "that" is, and the ask before it), as a follow-up is with the earlier question. The whole
    background would drown it: the trip, the family, the job."""
    text = parts[at].text
    elliptical, anaphor = is_elliptical(text), _ANAPHOR.search(fold(text))
    if not elliptical and not anaphor:
        return None
    if not elliptical and anaphor and size_in_words(fold(text)[: anaphor.start()]) >= SELF_CONTAINED_WORDS:
        # The demonstrative comes after the ask has said its subject ("Ein Kollege meinte, Deutsche dürfen 30 Tage
        # ohne Visum rein – stimmt das?"): it points inside the ask, and the sentences before it would pull in
        # another subject (there: the trade fair, read as work). "Is this relevant to the TWOV rules…" points back.
        return None
    before = parts[max(0, at - 2):at]
    joined = " ".join(s.text for s in before)
    if earlier and all(not s.is_ask and is_short(s.text) for s in before):
        # Nothing before it in this message but a thank-you: "그 센터가 정확히 몇 층이에요?" points at the
        # conversation's last question.
        joined = f"{earlier} {joined}".strip()
    return for_retrieval(joined, lang, restore) if joined else None
