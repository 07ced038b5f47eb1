"""A visitor's message as its asks and its background.

Real messages carry background ("we are a family of four…"), an itinerary and two or three questions at once. Each
question deserves its own retrieval: one embedding of the whole message lets the background words outweigh the ask
(measured on narrative messages, BENCHMARKS.md). The split is deliberately plain and works in every script:

1. sentences (``. ? ! 。 ？ ！ ؟`` and line breaks; numbered list items "1) … 2) …");
2. a sentence is an ask when it carries a question mark or an interrogative word or particle of one of our
   languages, otherwise it is background;
3. inside an ask, a conjunction followed by a new interrogative ("… and where …?", "…，还有…吗", "… 그리고 …")
   starts another ask;
4. no ask found: the whole message is one ask (a request written as a statement, "I need the 12345 number").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.lang import fold
from bot.query.followup import size_in_words

MAX_ASKS = 4  # parts an answer may have; more would not read on a phone (the rest is named as not covered)
# Asks a message is read for: asks that come to the same card share a part, so a message of five or six asks (a
# family's questions, "A? or B?") often still fits in MAX_ASKS parts. Measured on narrative.dev3: with the asks cut
# at MAX_ASKS before retrieval, 6 of 60 messages lost a real question.
MAX_READ = 6

# Sentence ends. A full stop ends a sentence only before a space and not after a single letter or a number
# ("U.S. passport", "1.5", "e.g."); CJK and Arabic marks end one anywhere.
_SENTENCE = re.compile(
    r"(?<=[?？؟!！。])\s*"
    # an ellipsis before a space trails a thought off ("…카드로 긁어야 하는지… 추가로 한식당 추천 부탁드려요")
    r"|(?<=…)\s+(?=\S)"
    # a full stop before a space, except after an initial or a short abbreviation ("U.S. passport", "e.g. ", "St. ")
    r"|(?<![\s.][A-Za-z])(?<!\b(?:Mr|Dr|St|No|ca|vs))(?<!\be\.g)(?<!\bi\.e)(?<!\d)"
    # ... nor after an abbreviation a sentence goes on after ("pro Zahlung max. ausgeben", "ggf. auch", "aprox. 300"),
    # unless a capital letter follows ("… dauert 30 min. Wo ist …")
    r"(?:(?<!\b(?:max|min|bzw|ggf|usw))(?<!\b(?:inkl|evtl|zzgl))(?<!\baprox)(?<!\bapprox)[.]\s+(?=\S)|[.]\s+(?=[A-ZÄÖÜ]))"
    # ... and after a number unless a day of the month goes on ("am 14. gestrichen", "bis zum 17. Januar")
    r"|(?<=\d)[.]\s+(?=[^\sa-zäöüß])(?!(?:Jan|Feb|Mär|Maer|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez)[a-zä]*\b)"
    # list items "1) … 2) …", and "1. … 2. …" after a sentence end (not the "11. " of "Bangkok on Jan 11. 1) Does…")
    r"|\s*\n+\s*|(?<=\S)\s+(?=\(?\d{1,2}[)）]\s)|(?<=[?？!！:;。])\s+(?=\d{1,2}[.]\s)"
    # ... and in Chinese and Japanese, written without spaces ("想问：1）我们从广东…？2）…")
    r"|(?<=[：:？?！!。；;，,])(?=\(?\d{1,2}(?:[)）]|[.．])\s*[^\x00-\x7f])"
    # Thai writes no question mark: a question or polite particle before a space ends the sentence
    r"|(?:(?<=ไหม)|(?<=มั้ย)|(?<=คะ)|(?<=ค่ะ)|(?<=ครับ)|(?<=หรือเปล่า)|(?<=หรือไม่))\s+(?!\()"  # "(…)": an aside
)

# Interrogatives on folded text (lower case, no accents, Traditional -> Simplified). In spaced Latin and Cyrillic
# languages a question word or auxiliary counts only where it opens the sentence ("Can I…", "Où…", "Сколько…"):
# "when I land I take the metro" is background. Some phrases ask wherever they stand ("how much", "I wonder").
_OPENERS = (
    r"how|what|where|when(?!\s+(?:i|we|my|our|they|he|she|the)\b)|which|who|why|can|could|do|does|did|is|are|should|will(?!'s)|would|may|must|any|anyone|"
    r"ou|comment|combien|quand|quel|quelle|quels|quelles|est-ce|puis-je|peut-on|peux-tu|faut-il|dois-je|"
    r"donde|como|cuanto|cuanta|cuantos|cuando|cual|que|puedo|se puede|hay|tengo que|necesito|"
    r"wo|wie|wann|welche|welcher|welches|was|kann|muss|darf|gibt es|brauche|"
    r"onde|quanto|quanta|quando|qual|posso|pode|preciso|da pra|tem como|"
    r"dove|quanti|quale|si puo|devo|c'e|"
    r"apakah|bagaimana|dimana|di mana|berapa|kapan|bisakah|bisa|boleh|perlu|"
    r"co|lam sao|"
    # (folded: "й" is "и", so "какой" is written "какои" here)
    r"где|как|сколько|когда|можно|нужно|надо ли|какои|какая|какую|какие|куда|есть ли|почему|зачем|что(?! касается)"
)
_DASH_AUX = r"\s[-–—]\s*(?:is|are|can|could|do|does|will|would|should)\s+(?:that|it|this|there|i|we|he|she|they)\b"
_LEAD_IN = r"(?:(?:and|also|so|but|ok|okay|then|et|y|und|e|dan|и|а|hi|hello|also|plus)[\s,]+)?"
_OPENER = re.compile(rf"^[\s¿¡\"'“(\-–—•・*]*(?:\d{{1,2}}[).）:]\s*)?{_LEAD_IN}(?:{_OPENERS})\b")
_ANYWHERE = re.compile(
    r"\bhow (?:much|many|long|far)\b|\bwonder|\bwant to know|\bwould like to know|\bnot sure (?:if|whether)|"
    r"\bis it (?:possible|allowed|ok)|"
    # "…, what crypto should I buy": a question word opening a clause after a comma (not "…, which was")
    r"[,;:]\s*(?:what|where|which|how)(?: \w+){0,2} (?:should|can|could|do|does|is|are|would|will)\b|"
    # "…only has an Amex, will Alipay even take that", "…only takes WeChat, is that even allowed", "Last thing, any
    # dim sum place…": an auxiliary and its subject, or "any", opening a clause after a comma
    r"[,;:]\s*(?:(?:will|can|could|do|does|did|is|are|should|would|may)\s+(?:i|we|you|he|she|they|it|that|this|"
    r"there|my|our|his|her|their|the|alipay|wechat)|any)\b|\bneed to know\b|\bwondering\b|"
    r"\bc['’]est (?:quoi|lequel|laquelle|lesquels|combien|ou|quand|comment)\b|\bveut dire quoi\b|"
    # French "which" asked inside the sentence ("la police c'est quel numéro déjà", "on part à quelle heure")
    r"\b(?:c['’]est|a|de|dans|en|pour|par|sur|avec|vers) quel(?:le)?s? (?!que\b|qu['’])|"
    # Turkish asks with a question particle ("Luohu'da vize alabilir miyim, acil…"; folded: "ü" is "u", "ı" stays)
    r"\bm[iıu](?:y[iı]m|yum|y[iı]z|yuz|s[iı]n|sun|s[iı]n[iı]z|sunuz|d[iı]r|dur)\b|"
    # Indonesian tag questions closing a clause ("rute saya ini memenuhi syarat nggak, kan…")
    r"\b(?:nggak|ngga|gak|enggak|tidak|ga)\s*(?:[,?]|$)|"
    r"\bje voudrais savoir|\bje voulais savoir|\bquisiera saber|\bme gustaria saber|\bmochte wissen|\bwusste gern|"
    r"\bgostava de saber|\bvolevo sapere|\bpengen tahu|\bpenasaran|\bcurious (?:if|whether|about)\b|"
    r"\b(?:anyone|anybody)\b|"
    # An auxiliary and its subject after a dash ("a side trip to Guilin – is that allowed on this visa free thing");
    # in German also after a comma ("… nach Guilin – ist das mit dem Transit erlaubt")
    rf"{_DASH_AUX}|"
    # ... and in Russian a question word after a dash ("И если задержусь дольше 10 дней — как потом выкрутиться")
    r"\s[-–—]\s*(?:как|где|когда|сколько|можно ли|нужно ли|что делать)\b|"
    # ... and Russian asks by "which/what" with a preposition, wherever they stand ("…, на каком этаже", "и до какого
    # числа максимум мы можем оставаться") or announced by "ещё вопрос" (folded: "еще")
    r"(?<![а-я])(?:на каком|в каком|до какого|с какого|какого числа|еще вопрос)(?![а-я])|"
    r"[,;:–—]\s*(?:ist|sind|kann|konnen|darf|durfen|muss|mussen|geht|gibt)\s+(?:das|es|man|ich|er|sie|wir|ihr|du)\b|"
    r"\bgostaria de saber|\bvorrei sapere|\bingin tahu|\bmau tanya|\bхочу узнать|\bподскажите|"
    # a request for information is an ask without a question mark ("…があれば教えてください。", "…도 궁금해요.")
    r"\bplease (?:tell|let) me\b|\blet me know\b|\bj'aimerais savoir|\bje me demande|\bdites-moi|"
    r"\bquiero saber|\bqueria saber|\bqualcuno sa\b|\bmohon info|\bскажите|\bрасскажите|"
    r"\bcho (?:toi|em|minh) hoi|\bmuon biet|\bxin hoi|"
    # Indonesian wh-words that do not open the sentence ("Nomor apa yang harus saya telpon kalau:")
    r"\bnomor apa\b|\byang mana\b|\bke mana\b|\bsiapa\b|\bgimana\b|"
    # asking for a recommendation is an ask too, usually a side one ("Sekalian, rekomendasi restoran halal dong.")
    r"\brecommend(?:ations?)?\b|\brecs\b|\b(?:pls|plz|please) rec\b|\bbonnes? adresses?\b|"
    # (folded: "أفضل" is written "افضل"): "what is the best …", "وأيضاً ما أفضل مطعم …"
    r"(?<![\u0600-\u06ff])ما (?:هو |هي )?(?:افضل|احسن|الفرق)(?![\u0600-\u06ff])|"
    r"\brecommandez|\brecomiend(?:an|en|as)\b|\brecomend(?:am|em|as)\b|"
    # (folded: "й" is "и", so "посоветуйте" is written "посоветуите" here)
    r"\bconsigli(?:ate|ami|atemi)\b|\bempfehl(?:en|t)\b|\brekomendasi\b|посоветуите|порекомендуите|\bgoi y\b|"
    # Vietnamese "tiện hỏi luôn quán phở nào ngon" (by the way, which pho place is good), folded
    r"\b(?:tien )?hoi luon\b|\bnao (?:ngon|tot|re|gan)\b|"
    r"おすすめ|オススメ|推荐|推介|แนะนำ|تنصحون|تنصحني|ترشحون|"
    r"教えて|知りたい|聞きたい|伺いたい|궁금|알려\s?주|알고\s?싶|추천\s?(?:부탁|해\s?주)|想知道|请问|想问|请告诉|告诉我|"
    r"อยากรู้|อยากทราบ|ขอถาม|أريد أن أعرف|أود أن أعرف|أود معرفة|"
    r"\b(?:bao nhieu|o dau|the nao|duoc khong|co duoc|khong|chua|nao|gi)\s*$|"
    # Vietnamese "có nên …" (should I …), "… không hay …" (… or …?), "ở đâu", "bao nhiêu", "khi nào", "lúc nào" ask
    # wherever they stand (folded: without accents)
    r"\bco nen\b|\bkhong hay\b|\bo dau\b|\bbao nhieu\b|\bkhi nao\b|\bluc nao\b|"
    # Chinese (folded to Simplified) incl. Cantonese, Japanese, Korean, Thai, Arabic: particles and wh-words
    # "A-not-A" asks in Chinese: "可唔可以", "得唔得", "係唔係" (Cantonese), "好不好", "去没去"; "呢" asks, except
    # where Cantonese points with it ("呢個月" this month, "呢度" here)
    r"(?P<a_not_a>[\u4e00-\u9fff])[不没唔](?P=a_not_a)|有冇|"
    r"吗|呢(?![个度啲哋排次间位种样几边条张])|嘛|几多|几时|几点|几号|几耐|几钱|多少|怎么|怎样|哪|什么|是否|能否|可否|可不可以|能不能|会不会|要不要|有没有|咩|点样|边度|系咪|"
    r"ですか|ますか|でしょうか|ませんか|か[。]?$|どこ|いくら|いつ|どう|どの|どんな|どっち|どちら|"
    # "…って普通は何日なんでしょう" (no か), "何階", "何時まで": a counted "what"
    r"でしょう[。]?$|何(?:日|時|階|番|円|元|回|人|枚|分|週|ヶ月|か月|カ月|歳|%|パーセント)|"
    # an indirect question with its doubt ("どっちで入ればいいのか混乱しています", "不知道是不是…")
    r"(?:のか|かどうか)(?:が|を)?(?:分から|わから|知りた|混乱|迷っ)|是不是|不知道|"
    r"니까|나요|까요|는지|인가요|한가요|운가요|은가요|는가요|을까|ㄹ까|어디|얼마|언제|어떻게|무엇|뭐|"
    r"ไหม|มั้ย|หรือไม่|หรือเปล่า|อย่างไร|ยังไง|ที่ไหน|ไหน|อะไร|ทำไม|เท่าไร|เท่าไหร่|"
    # (folded: "متى" is written "متي")
    r"(?<![\u0600-\u06ff])(?:هل|كيف|أين|اين|متى|متي|كم|ماذا|لماذا)(?![\u0600-\u06ff])"
)
_QUESTION_MARK = re.compile(r"[?？؟]")
# A conjunction that may open a new ask, in each language (folded); it splits only when a question word follows.
_JOIN_LATIN = re.compile(
    r"[,;]?\s+(?:and also|and|also|plus|as well|et aussi|et|aussi|y también|y tambien|y|también|tambien|"
    r"und auch|und|auch|e tambem|e também|e anche|e|tambem|também|anche|dan juga|dan|juga|va|và|còn|"
    r"и ещё|и еще|а также|также|и)\s+(?=\S)"
)
_JOIN_CJK = re.compile(r"(?:[，；;、]|(?<!\d),(?!\d))"  # a comma between digits groups thousands: "3,000 RMB"
                       r"\s*(?:还有|另外|以及|并且|而且|同时|顺便问一下|順便|另|还|そして|また|それと|あと)?|"
                       r"\s+(?:그리고|또한|또|และ|แล้วก็|อีกเรื่อง|وأيضا|وايضا|و)\s*")


_LIST_ITEM = re.compile(r"^(?:\(?\d{1,2}[).）]|[-–—•・*])\s")  # "1) …", "2. …", and a line of its own opened by a dash


@dataclass(frozen=True)
class Segment:
    text: str
    is_ask: bool
    # The sentence names what the message asks about without asking it ("Cho mình hỏi về hoàn thuế", "domanda sul
    # rimborso immediato"): background, and the context of every ask after it that says little of its subject.
    topic: bool = False
    # The question a list item completes ("Which number do they call if:" / "- Dad's heart plays up"): the item
    # is an ask read with it. None for any other sentence.
    header: str | None = None


def is_question(text: str) -> bool:
    """A question mark, or an interrogative word or particle of one of our languages."""
    if _QUESTION_MARK.search(text):
        return True
    folded = fold(text)
    return bool(_OPENER.search(folded) or _ANYWHERE.search(folded))


def sentences(message: str) -> list[str]:
    """Sentences with a letter in them ("??" alone is not one)."""
    found = [s.strip() for s in _SENTENCE.split(message) if s and re.search(r"[^\W\d_]", s)]
    return [part for s in found for part in _thai_groups(s)]



_THAI = re.compile(r"[\u0e00-\u0e7f]")
# Question words of a Thai clause; the particle ไหม only at the clause's end (inside a word it is silk, "ผ้าไหม").
_THAI_ASKS = re.compile(r"(?:ไหม|มั้ย)(?:ครับ|คับ|คะ|ค่ะ|จ๊ะ)?$|หรือไม่|หรือเปล่า|อย่างไร|ยังไง|ไหน|อะไร|ทำไม|เท่าไร|"
                        r"เท่าไหร่|กี่")


def _thai_groups(sentence: str) -> list[str]:
    """Thai has no sentence marks: a space separates clauses, and a question often ends without a particle the
    sentence split could see ("…ควรอยู่แต่ในบ้าน เมื่อวานแท็กซี่ไม่ยอมกดมิเตอร์ … จะร้องเรียนได้ที่ไหนครับ" asks about
    the rain signals, then about a taxi). The clauses are grouped as a writer's thoughts run: what they say, then
    what they ask; a statement after a question starts the next group. Each group keeps its own background."""
    if not _THAI.search(sentence):
        return [sentence]
    groups: list[list[str]] = [[]]
    asked = False
    for clause in _thai_clauses(sentence):
        question = bool(_THAI_ASKS.search(clause)) or clause.endswith(("?", "？"))
        # "หรือ…" (or …) offers the other half of the question before it, "เพราะ…" (because …) says why it is asked,
        # and a parenthesis ("(ร้านบอกภาษี 13%)") is an aside: they stay with it. "แล้ว…" (and then …) after a
        # question asks the next thing, even when it is a question too.
        goes_on = clause.startswith(("หรือ", "เพราะ", "("))
        if asked and ((not question and not goes_on and _THAI.search(clause)) or
                      (question and clause.startswith("แล้ว"))):
            groups.append([])
            asked = False
        groups[-1].append(clause)
        asked = asked or question or clause.startswith("หรือ")  # "or …?" asks, with or without a particle
    return [" ".join(g) for g in groups if g]


def _thai_clauses(sentence: str) -> list[str]:
    """The space-separated clauses of a Thai sentence, a parenthesis kept whole."""
    clauses: list[str] = []
    for piece in re.split(r"(\([^()]*\))", sentence):
        if piece.startswith("(") and piece.endswith(")"):
            clauses.append(piece)
        else:
            clauses += piece.split()
    return clauses


def _split_clauses(sentence: str) -> list[str]:
    """Split a question sentence where a conjunction starts a new question; parts without a question word of their
    own stay with the next part (they are its context: "我在深圳买了东西，退税最低多少" is one ask)."""
    pieces: list[str] = []
    last = 0
    for pattern in (_JOIN_LATIN, _JOIN_CJK):
        for m in pattern.finditer(sentence):
            if m.start() <= last:
                continue
            right = sentence[m.end():]
            left = sentence[last:m.start()]
            # Both sides must ask something, and the right side must open with (or soon carry) a question word:
            # "can I pay cash and card?" is one ask; "can I pay cash and where is the counter?" is two.
            # "…得唔得，定係要喺西九龍搭高鐵？" (…, or …?) is one question offering two ways.
            alternative = _ALTERNATIVE.match(fold(right)) is not None
            if _asks_here(left) and _opens_question(right) and not _relative_clause(m.group(0), right) \
                    and not alternative:
                pieces.append(left)
                last = m.end()
        if pieces:
            break
    pieces.append(sentence[last:])
    return [p.strip(" ,;，；、") for p in pieces if p.strip(" ,;，；、")]


_ALTERNATIVE = re.compile(r"\s*(?:定系|定是|还是|抑或|或是|或者)")


# After a bare comma, these words open a relative or indirect clause in spaced languages as often as a new question:
# "Gibt es eine Stelle, wo mir jemand hilft?", "Is there a desk, where I can ask?", "Sabes, donde…". A new ask after
# a bare comma opens with an auxiliary instead ("…, can I also pay cash?"); after "and"/"und" the word may open one.
_RELATIVE = re.compile(r"[\s¿¡]*(?:wo|was|wie|wann|welche[rsnm]?|where|which|what|who|whom|when|ou|que|qui|donde|"
                       r"cuando|onde|quando|dove|quale|che|co|gdzie|где|как|когда|какой|какие|куда|который|которая|"
                       r"зачем|почему|что|сколько|кто|чем)\b")


def _relative_clause(joint: str, right: str) -> bool:
    return not joint.strip(" ,;，；、") and _RELATIVE.match(fold(right)) is not None and \
        re.match(r"[\s¿¡]*[a-z\u0400-\u04ff]", fold(right)) is not None


def _asks_here(text: str) -> bool:
    return len(text.strip()) >= 4 and is_question(text)


def _opens_question(text: str) -> bool:
    """The clause after a conjunction asks something new: a spaced-language clause must open with a question word
    ("… and where is the counter?"); elsewhere a particle or wh-word anywhere in it will do."""
    folded = fold(text)
    if _DASH_ASK.search(folded) or _REQUEST.match(folded):
        # "… also thinking of a side trip to Guilin – is that allowed", "… and pls rec a good dim sum place"
        return True
    # The script is the first letter's, not the first character's: "… auch 30 Tage visumfrei einreisen wie ich?"
    # opens with a figure and goes on in German (read as unspaced, its "?" had made "30 Tage …" an ask of its own).
    if re.match(r"[\W\d_]*[a-z\u0400-\u04ff]", folded):
        return bool(_OPENER.search(folded))
    if re.match(r"\s*[\u0600-\u06ff]", text):
        # Arabic writes "and" joined to the next word ("بالتأشيرات والحدود؟" is one ask): a new ask opens with a
        # question word ("وما أرقام الطوارئ؟", "وهل بطاقة مدى…").
        return _ARABIC_OPENER.match(text) is not None
    return bool(_ANYWHERE.search(folded) or _QUESTION_MARK.search(text))


_DASH_ASK = re.compile(_DASH_AUX)
_REQUEST = re.compile(r"\s*(?:pls|plz|please)\s+(?:rec|recs|recommend|suggest|tell|let|advise|help)\b")
_ARABIC_OPENER = re.compile(r"\s*(?:هل|كيف|أين|اين|متى|كم|ماذا|لماذا|ما|من|أي|اي)(?![\u0600-\u06ff])")


def segments(message: str) -> list[Segment]:
    """The message's sentences and clauses in order, each an ask or background."""
    out: list[Segment] = []
    found = sentences(message)
    listed = [s for s in found if _LIST_ITEM.match(s)]
    # A numbered list whose items ask is a list of asks: "4) also any tips on which EV stocks to buy lol" is one too.
    list_asks = len(listed) >= 2 and sum(is_question(s) for s in listed) >= 2
    header: str | None = None
    for n, sentence in enumerate(found):
        # "Mau tanya:" / "My questions:" announce the asks; they are not one. Nor is "a question about the refund".
        topic = bool(_TOPIC.search(fold(sentence))) and "?" not in sentence and size_in_words(sentence) <= TOPIC_WORDS
        announces = topic or sentence.rstrip().endswith((":", "：")) or _prefaces_only(sentence)
        if header is not None and _LIST_ITEM.match(sentence):
            out.append(Segment(sentence, True, header=header))  # "- Dad's heart plays up": an ask of the header's
            continue
        header = sentence if _asks_of_list(sentence, found[n + 1:]) else None
        if (is_question(sentence) or (list_asks and _LIST_ITEM.match(sentence))) and not announces:
            out += [Segment(clause, True) for clause in _split_clauses(sentence)]
        else:
            out.append(Segment(sentence, False, topic))
    return out


def _asks_of_list(sentence: str, after: Sequence[str]) -> bool:
    """A question that a list after it completes: "Which number or counter do they go to if:", "Nomor apa yang harus
    saya telpon kalau:" followed by two or more list lines that do not ask themselves (not "Je voulais savoir:"
    before a list of questions, nor "Plan is:" before legs)."""
    if not sentence.rstrip().endswith((":", "：")) or not is_question(sentence.rstrip()[:-1]):
        return False
    items = asking = 0
    for line in after:
        if not _LIST_ITEM.match(line):
            break
        items += 1
        asking += is_question(line)
    return items >= 2 and (asking * 2 < items or _CONDITIONAL_END.search(fold(sentence)) is not None)


# A header that ends on "if:" ("Which number do they call if:") is completed by every item, questions or not.
_CONDITIONAL_END = re.compile(r"(?:\b(?:if|when|in case|kalau|jika|bila|apabila|wenn|falls|si|se|cuando|quando|если|"
                              r"когда|neu|khi)|如果|要是|的话|場合は?|경우|ถ้า|اذا|إذا)\s*[:：]\s*$")


# "想問下，我係香港人，有回鄉證…": "may I ask" before a sentence that tells, not asks; the question comes later.
_PREFACE = re.compile(r"^\s*(?:(?:kak|bang|mas|mbak|pak|bu|gan|sis)[\s,]+)?"  # "Kak mau tanya, …": who is addressed
                      r"(?:想问(?:一?下|问)?|请问(?:一下)?|想请问(?:一下)?|想请教(?:一下)?|请教一下|"
                      r"mau tanya|numpang tanya|xin hoi|cho (?:minh|toi|em) hoi|ขอถาม(?:หน่อย)?(?:ครับ|ค่ะ|คะ)?)"
                      r"[\s，,：:!！]+")


def _prefaces_only(sentence: str) -> bool:
    folded = fold(sentence)
    m = _PREFACE.match(folded)
    return m is not None and not _QUESTION_MARK.search(sentence) and not is_question(folded[m.end():])


# "A question about …" opening a message, in our languages (folded), after a greeting at most.
_TOPIC = re.compile(
    r"^(?:[^\s,!]+[,!]\s+)?(?:cho (?:minh|toi|em) hoi|xin hoi|hoi|mau tanya|numpang tanya|tanya|"
    r"(?:a |one |quick |little )?question|(?:una |piccola )?domanda|(?:una )?pregunta|(?:eine |kurze )?frage|"
    r"(?:une |petite )?question|(?:uma )?(?:pergunta|duvida)|(?:у меня )?вопрос)\s+"
    r"(?:ve|soal|tentang|about|on|regarding|re|sul|sulla|sui|sugli|sobre|sur|zum|zur|zu|про|по|о)\b"
)
TOPIC_WORDS = 12


def split(message: str) -> tuple[list[str], list[str]]:
    """(asks, background) of a message, asks in order; no ask found: the whole message is the one ask."""
    parts = segments(message)
    asks = [s.text for s in parts if s.is_ask]
    if not asks:
        return [message.strip()], []
    return asks, [s.text for s in parts if not s.is_ask]
