"""Countries, demonyms and cities in a question, and the role each plays: nationality, origin or destination.

Names come from CLDR via Babel (every country in all 15 languages) plus ``data/places.yaml`` (demonyms, short
forms, cities). The role comes from cue words next to the match, in the position each language puts them:
"from Tokyo", "从洛杉矶", "羽田から", "서울에서", "из Москвы", "desde México" -> origin; "US passport",
"паспорт РФ", "日本のパスポート" -> nationality; "to Tokyo", "去香港", "홍콩으로", "vers Séoul" -> destination.
Mainland China is never an origin or destination: the third-country rule is about where you come from and go next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from babel import Locale

from bot.checks.extract_dates import LANGS
from bot.checks.extract_text import CLAUSE_END, Text, fold
from bot.yaml_text import load_yaml

NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
MAINLAND = "CN"
ROMANCE = {"fr", "es", "pt", "it"}
_WILD = "[^\\W\\d_]{0,6}"  # what "*" stands for: up to six more letters


@dataclass(frozen=True)
class Place:
    start: int
    end: int
    code: str
    kind: str  # "country" | "demonym" | "city"


@dataclass(frozen=True)
class Roles:
    nationality: str | None
    origin: str | None
    destination: str | None
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class _Term:
    prefix: str  # folded literal part before the first "*"
    pattern: re.Pattern[str] | None  # None for a plain literal
    code: str
    kind: str


def _script(ch: str) -> str:
    if ch.isascii():
        return "latin" if ch.isalnum() else ""
    if "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":
        return "latin"
    if "\u0400" <= ch <= "\u04ff":
        return "cyrillic"
    if "\u30a0" <= ch <= "\u30ff":
        return "kana"
    if "\uac00" <= ch <= "\ud7af":
        return "hangul"
    if "\u0621" <= ch <= "\u064a":
        return "arabic"
    return ""


# Arabic writes "and", "with", "to" and "the" onto the next word ("والإمارات", "بالصين", "لسنغافورة"): a name may
# follow these inside a word; any other letters before it make it part of another word ("دروسي" is not "روسي").
_AR_PROCLITICS = ("ال", "و", "ب", "ل", "وال", "بال", "لل", "ف", "فال")


def _bounded(text: str, start: int, end: int) -> bool:
    """Alphabetic words must stand alone ("Oman" not in "woman"); katakana too; Korean may take particles after."""
    first, last = _script(text[start]), _script(text[end - 1])
    before = _script(text[start - 1]) if start else ""
    after = _script(text[end]) if end < len(text) else ""
    if first == "arabic" and before == "arabic":
        word_start = start
        while word_start and _script(text[word_start - 1]) == "arabic":
            word_start -= 1
        if text[word_start:start] not in _AR_PROCLITICS:
            return False
    elif first and first == before:
        return False
    return not (last in {"latin", "cyrillic", "kana", "arabic"} and last == after)


def _term(raw: str, code: str, kind: str) -> _Term | None:
    folded = fold(raw.strip())
    prefix = folded.split("*")[0]
    if len(prefix) < 2:
        return None
    if "*" not in folded:
        return _Term(folded, None, code, kind)
    return _Term(prefix, re.compile(_WILD.join(re.escape(part) for part in folded.split("*"))), code, kind)


def _too_short(name: str) -> bool:
    """Short CLDR names collide with words ("Ý" is Italy in Vietnamese, "y" is "and" in Spanish)."""
    script = _script(name[0])
    if script in {"latin", "cyrillic"}:
        return len(name) < 4
    if script in {"kana", "hangul"} or "\u3400" <= name[0] <= "\u9fff":
        return len(name) < 2
    return len(name) < 3


def _cldr_terms(ambiguous: set[str]) -> dict[str, str]:
    """Folded CLDR country names -> code; names two countries share are dropped; Russian names get case endings."""
    found: dict[str, set[str]] = {}
    for lang in LANGS:
        for code, name in Locale.parse(lang).territories.items():
            if not code.isalpha() or code in NOT_COUNTRIES or "(" in name:
                continue
            key = fold(name)
            if key in ambiguous or _too_short(key):
                continue
            found.setdefault(key, set()).add(code)
            if _script(key[0]) == "cyrillic" and " " not in key and len(key) >= 5:
                # Россия -> России, Россию; Мексика -> Мексике: cut the ending and accept any short one.
                found.setdefault((key[:-1] if key[-1] in "аяйьоеи" else key) + "*", set()).add(code)
    return {key: next(iter(codes)) for key, codes in found.items() if len(codes) == 1}


@lru_cache(maxsize=1)
def _data() -> dict:
    return load_yaml(resources.files("bot.data").joinpath("places.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _index() -> dict[str, list[_Term]]:
    """Terms keyed by their first two folded characters, so a scan tries only a handful at each position."""
    data = _data()
    terms = [_term(name, code, "country") for name, code in _cldr_terms({fold(a) for a in data["ambiguous"]}).items()]
    for section, kind in (("names", "country"), ("cities", "city")):
        terms += [_term(name, code, kind) for code, names in data[section].items() for name in names]
    for code, by_lang in data["demonyms"].items():
        terms += [_term(name, code, "demonym") for names in by_lang.values() for name in names]
    index: dict[str, list[_Term]] = {}
    for term in terms:
        if term is not None:
            index.setdefault(term.prefix[:2], []).append(term)
    return index


@lru_cache(maxsize=1)
def _codes_re() -> tuple[re.Pattern[str], dict[str, str]]:
    codes = {word: code for code, words in _data()["codes"].items() for word in words}
    alternation = "|".join(re.escape(w) for w in sorted(codes, key=len, reverse=True))
    # "US$5,000" and "HK$" are currencies, not places.
    return re.compile(rf"(?<![\w.$])(?:{alternation})(?![\w$])"), codes


def _match_at(text: str, i: int, term: _Term) -> int | None:
    if term.pattern is None:
        end = i + len(term.prefix) if text.startswith(term.prefix, i) else None
    else:
        m = term.pattern.match(text, i)
        end = m.end() if m else None
    return end if end is not None and _bounded(text, i, end) else None


def find_places(t: Text) -> list[Place]:
    """Leftmost-longest matches; on a tie the more literal term wins ("Japon" the country over "japon*")."""
    places = [Place(m.start(), m.end(), _codes_re()[1][m.group()], "country") for m in _codes_re()[0].finditer(t.raw)]
    taken = {i for p in places for i in range(p.start, p.end)}
    index, text, i = _index(), t.folded, 0
    while i < len(text) - 1:
        best: tuple[int, int, _Term] | None = None
        for term in index.get(text[i : i + 2], ()):
            end = _match_at(text, i, term)
            if end is not None and not taken.isdisjoint(range(i, end)):
                continue  # already read as a code ("USA")
            rank = (end or 0, len(term.prefix) + (1 if term.pattern is None else 0))
            if end is not None and (best is None or rank > best[:2]):
                best = (*rank, term)
        if best is None:
            i += 1
            continue
        places.append(Place(i, best[0], best[2].code, best[2].kind))
        i = best[0]
    return sorted(places, key=lambda p: p.start)


# Cue words, folded. Pre-cues stand before the place ("from Tokyo"), post-cues after it ("羽田から", "US passport").
_CUES = {
    ("nationality", "pre"): [
        "passport", "passport from", "passport of", "passport issued by", "citizen of", "national of", "nationality",
        "i'm", "i am", "i'm from", "i am from", "holder of", "гражданина", "гражданки",
        "持", "持有", "国籍", "国籍是", "国籍为", "我是", "国籍は",
        "국적", "국적은", "국적이", "паспорт", "паспорта", "паспортом", "граждан", "гражданин", "гражданка",
        "гражданство", "я", "я из", "passeport", "passeport de", "nationalite", "citoyen", "citoyenne", "je suis",
        "je suis de", "pasaporte", "pasaporte de", "nacionalidad", "ciudadano", "ciudadana", "soy", "soy de",
        "reisepass", "reisepass aus", "pass aus", "staatsangehorigkeit", "staatsburger", "ich bin", "ich bin aus",
        "passaporte", "passaporte de", "nacionalidade", "cidadao", "sou", "sou de", "passaporto", "nazionalita",
        "cittadino", "sono", "sono di", "cong dan", "ho chieu", "quoc tich", "warga negara", "paspor",
        "جواز", "جواز سفر", "جنسية", "الجنسية", "مواطن", "أنا", "انا", "พาสปอร์ต", "หนังสือเดินทาง", "สัญชาติ",
    ],
    ("nationality", "post"): [
        "passport", "passports", "passport holder", "citizen", "citizens", "national", "nationals", "护照", "人",
        "籍", "公民", "国籍", "パスポート", "旅券", "여권", "국적", "인", "사람", "시민", "паспорт", "reisepass",
        "staatsburger",
    ],
    ("origin", "pre"): [
        "from", "out of", "departing", "departing from", "leaving", "leaving from", "coming from", "fly from",
        "从", "由", "自", "来自", "из", "изо", "de", "d'", "depuis", "en provenance de", "venant de", "viens de",
        "pars de", "desde", "procedente de", "vengo de", "salgo de", "aus", "von", "ab", "do", "da", "vindo de",
        "dal", "dalla", "من", "جاي من", "قادم من", "จาก", "dari", "tu", "bay tu",
    ],
    ("origin", "post"): ["から", "发", "出发", "起飞", "発", "에서", "에서부터", "→", "->", "to"],
    ("destination", "pre"): [
        "to", "onward to", "on to", "then", "then to", "heading to", "towards", "toward", "bound for", "back to",
        "continuing to", "去", "往", "飞往", "前往", "到", "回", "返回", "返", "再去", "然后去", "至", "赴", "в", "во",
        "на", "до", "дальше в", "потом в", "vers", "pour", "a", "au", "aux", "direction", "hacia", "para", "rumbo a",
        "hasta", "nach", "rumo a", "per", "verso", "→", "->", "next stop", "vado in", "vado a", "volo in", "parto per",
        "إلى", "الى", "الي", "ثم إلى", "ثم الى", "ไป", "บินไป", "ke", "menuju", "den", "sang", "ve", "bay den",
        "bay sang", "qua",
    ],
    ("destination", "post"): [
        "へ", "行き", "に行", "に向か", "に戻", "まで", "으로", "로", "행", "에 가", "에 갑", "갈",
    ],
}  # fmt: skip
# Short Romance prepositions are English articles or Portuguese/Italian words elsewhere ("a US passport").
_GATED = {"a", "de", "d'", "da", "do", "au", "aux", "per", "dal", "dalla"}
# Short cue words of one language that are other words elsewhere ("tu" is "you" in French, "den" an article in German).
_ONLY_IN = {"tu": "vi", "bay tu": "vi", "den": "vi", "sang": "vi", "ve": "vi", "bay den": "vi", "bay sang": "vi",
            "dari": "id", "ke": "id", "menuju": "id", "qua": "vi"}
# "I'm ..." and "soy ..." introduce a demonym ("I'm American"), not a country ("I'm in Japan" is not a nationality).
_COPULA = {"i'm", "i am", "je suis", "soy", "sono", "sou", "ich bin", "я", "أنا", "انا"}
# Suffix cues that must touch the name: "美国人", "미국인"; "미국 인천" is a place and an airport.
_TIGHT = {"人", "인", "籍"}
# A demonym right after "speak"/"in" or before "language"/"food" names a language or a cuisine, not a passport.
_NOT_NATIONALITY = re.compile(
    r"(?:\b(?:speak|speaks|speaking|in|into|translate|hablo|habla|en|parle|parlez|spreche|sprechen|auf|falo|fala|em"
    r"|parlo|parla|на|говорю)\s+|по-)$"
)
_NOT_NATIONALITY_AFTER = re.compile(
    r"\s*(?:language|food|cuisine|restaurant|version|menu|text|yuan|visa|embassy|consulate|bank|card|phone|number"
    r"|idioma|langue|sprache|язык|语|菜|料理|語|어)"
)
_PASSPORTISH = re.compile(
    r"passport|citizen|nationality|护照|国籍|公民|パスポート|旅券|여권|국적|паспорт|граждан|passeport|nationalit|pasaporte"
    r"|nacionalidad|reisepass|staatsangeh|passaporte|passaporto|cittadin|cong dan|ho chieu|quoc tich|warga negara"
    r"|paspor"
)
_WINDOW = 6
_ROLE_ORDER = {"nationality": 0, "origin": 1, "destination": 2}


def _cue_pattern(words: list[str]) -> re.Pattern[str]:
    parts: list[str] = []
    for word in sorted(set(words), key=len, reverse=True):
        head = r"(?<![^\W\d_])" if _script(word[0]) in {"latin", "cyrillic"} else ""
        tail = r"(?![^\W\d_])" if _script(word[-1]) in {"latin", "cyrillic"} else ""
        parts.append(f"{head}{re.escape(word)}{tail}")
    return re.compile("|".join(parts))


@lru_cache(maxsize=1)
def _cue_patterns() -> dict[tuple[str, str], re.Pattern[str]]:
    return {key: _cue_pattern(words) for key, words in _CUES.items()}


def _allowed(word: str, gap: int, place: Place, lang: str) -> bool:
    if word in _GATED and lang not in ROMANCE:
        return False
    if word in _ONLY_IN and lang != _ONLY_IN[word]:
        return False
    if word in _COPULA and place.kind != "demonym":
        return False
    return word not in _TIGHT or gap == 0


@dataclass(frozen=True)
class _Cues:
    """Every cue in the text, once: pre-cues by where they end, post-cues by where they start."""

    ends: dict[int, list[tuple[str, str]]]  # position -> [(word, role)]
    starts: dict[int, list[tuple[str, str]]]


def _find_cues(t: Text) -> _Cues:
    cues = _Cues({}, {})
    for (role, side), pattern in _cue_patterns().items():
        for m in pattern.finditer(t.folded):
            if side == "pre":
                cues.ends.setdefault(m.end(), []).append((m.group(), role))
            elif not (m.group() == "人" and t.folded[m.end() : m.end() + 1] == "民"):  # 中国人民银行 is a bank
                cues.starts.setdefault(m.start(), []).append((m.group(), role))
    return cues


def _nearest_cue(t: Text, place: Place, cues: _Cues) -> str | None:
    """The role of the closest cue in the clause; at equal distance a pre-cue, then nationality > origin > dest."""
    for gap in range(_WINDOW + 1):
        for found, lo, hi in (
            (cues.ends.get(place.start - gap, []), place.start - gap, place.start),
            (cues.starts.get(place.end + gap, []), place.end, place.end + gap),
        ):
            roles = [role for word, role in found if _allowed(word, gap, place, t.lang)]
            if roles and not CLAUSE_END.search(t.folded, lo, hi):
                return min(roles, key=_ROLE_ORDER.__getitem__)
    return None


def _role(t: Text, place: Place, cues: _Cues) -> tuple[str, int] | None:
    """(role, strength): 2 for an explicit cue, 1 for a bare demonym ("I'm American" has a cue; "Americans" alone)."""
    role = _nearest_cue(t, place, cues)
    if role == "nationality" and place.kind == "city":
        return None  # "Tokyo passport" is not a thing
    if role is not None and (place.kind != "demonym" or role == "nationality"):
        return role, 2
    # A demonym is a nationality even without a cue, but "Chinese" alone is usually the language, a visa or a bank.
    if place.kind != "demonym" or place.code == MAINLAND:
        return None
    before = t.folded[max(0, place.start - 12) : place.start]
    if _NOT_NATIONALITY.search(before) or _NOT_NATIONALITY_AFTER.match(t.folded, place.end):
        return None
    return "nationality", 1


def _near_passport_word(t: Text, place: Place) -> bool:
    """A passport word in the same clause as the one country left: "Aussie passport. Plan: Sydney -> HK" names the
    passport in one sentence and Hong Kong, a stop, in another."""
    for m in _PASSPORTISH.finditer(t.folded):
        lo, hi = sorted((m.end(), place.start)) if m.start() < place.start else (place.end, m.start())
        if not CLAUSE_END.search(t.folded, lo, hi):
            return True
    return False


def assign_roles(t: Text, places: list[Place]) -> Roles:
    nationality: tuple[int, str] | None = None
    origin = destination = None
    unassigned: dict[str, Place] = {}
    cues = _find_cues(t)
    for place in places:
        found = _role(t, place, cues)
        if found is None:
            if place.kind != "city" and place.code != MAINLAND:
                unassigned.setdefault(place.code, place)
            continue
        role, strength = found
        # A Chinese citizen in a message that names another passport is asking for someone else ("我自己是中国人不用管，
        # 主要问同事：一个德国护照…"): the other passport counts.
        if role == "nationality" and (nationality is None or strength > nationality[0]
                                      or (nationality[1] == MAINLAND and place.code != MAINLAND
                                          and strength >= nationality[0])):
            nationality = (strength, place.code)
        elif role == "origin" and origin is None and place.code != MAINLAND:
            origin = place.code
        elif role == "destination" and destination is None and place.code != MAINLAND:
            destination = place.code
    if nationality is None and len(unassigned) == 1 and _near_passport_word(t, next(iter(unassigned.values()))):
        nationality = (0, next(iter(unassigned)))  # one country and a passport word: that is the passport
    return Roles(nationality[1] if nationality else None, origin, destination, unknown_countries(t, places))


def trip_stops(t: Text, places: list[Place]) -> tuple[str, ...]:
    """The places of a trip in the order written, without the passport ("US passport holder", "I'm American"):
    what an itinerary ("Paris → Shanghai → Seoul", "London - Beijing / Beijing - Tokyo") is read from."""
    cues = _find_cues(t)
    kept = [p for p in places if p.kind != "demonym" and (_role(t, p, cues) or ("",))[0] != "nationality"]
    # Places joined by leg marks ("A - B > C", "A → B / B → C") are the itinerary; a place named again in the
    # question after it ("may I stay in Beijing 10 days?") is not another stop.
    legs = [i for i in range(len(kept) - 1) if _LEG.match(t.raw[kept[i].end : kept[i + 1].start])]
    if legs:
        chained = sorted({i for i in legs} | {i + 1 for i in legs})
        # A chain that ends (or starts) in the mainland goes on with the next place named after it (or the last one
        # before it): "Vienna – Istanbul – Shenzhen, … on the 31st on foot to Hong Kong".
        after = next((i for i in range(chained[-1] + 1, len(kept)) if kept[i].code != MAINLAND), None)
        before = next((i for i in range(chained[0] - 1, -1, -1) if kept[i].code != MAINLAND), None)
        if kept[chained[-1]].code == MAINLAND and after is not None:
            chained.append(after)
        if kept[chained[0]].code == MAINLAND and before is not None:
            chained.insert(0, before)
        kept = [kept[i] for i in chained]
    return tuple(p.code for p in kept)


# What stands between two stops of a written itinerary: an arrow, a dash or slash between spaces, "(3 nights)".
_LEG = re.compile(r"^\s*(?:\([^)]{0,30}\)\s*)?(?:->|→|=>|⇒|>|[-–—/]|\s[-–—/]\s)\s*(?:\([^)]{0,30}\)\s*)?$")


# "Narnian passport", "passport of Narnia", "паспорт Нарнии", "纳尼亚护照": the word where a country should be.
_UNKNOWN_PATTERNS = (
    re.compile(r"\b([A-Z][a-z]{2,})\s+(?:passport|citizen|national|Reisepass)"),
    re.compile(r"(?:passport (?:from|of)|citizen of|national of|nationality:?)\s+(?:the\s+)?([A-Z][a-z]{2,})"),
    re.compile(r"(?:passeport|pasaporte|passaporte|passaporto)\s+(?:de\s+|di\s+|d')?([^\W\d_]{4,})", re.I),
    re.compile(r"([a-zäöü]{4,}(?:er|en|e|es))\s+Reisepass"),
    re.compile(r"паспорт\w*\s+([А-ЯЁ][а-яё]{2,})|([а-яё]{3,}(?:ий|ый|ой))\s+паспорт"),
    re.compile(r"([\u4e00-\u9fff]{2,6}|[\u30a0-\u30ff]{2,8})(?:的|の)?(?:护照|護照|パスポート)"),
    re.compile(r"([\uac00-\ud7af]{2,6})\s*여권"),
)
# Chinese characters that end a word before the name: "我持纳尼亚护照" -> 纳尼亚.
_HAN_FUNCTION = re.compile("[的了是有我你他她这那本张个用拿持在和或与及新旧]")
_STOP_WORDS = """
my the a an your his her our their valid expired new old foreign diplomatic ordinary official service second same
this that which what whose any each every one regular normal biometric electronic current own original emergency
temporary travel european schengen commonwealth de du des en et est pour avec sans valide expire ordinaire
diplomatique biometrique vigente valido vencido caducado ordinario diplomatico biometrico para con sin que del y es
mi su tu el la le los las meinen mein einen gultigen neuen neuer alten deutschen eigenen einem keinen diesen mit
ohne und ist мой свой действующий заграничный обычный новый старый дипломатический служебный внутренний какой
другой второй 普通 外国 因私 公务 外交 护照 电子 过期 申请 办理 更换 带着 出示 需要 携带 使用 补办 签证 自分
내 제 저의 나의 우리 우리의 유효한 일반 새 새로운 외교관 관용 가진 제가 전자 만료된
"""
_NOT_A_COUNTRY = frozenset(_STOP_WORDS.split())


def _candidate(t: Text, m: re.Match[str]) -> tuple[int, int] | None:
    group = next(i for i in range(1, len(m.groups()) + 1) if m.group(i))
    start, end = m.span(group)
    if "\u4e00" <= t.raw[start] <= "\u9fff":
        cut = [f.end() for f in _HAN_FUNCTION.finditer(t.raw, start, end)]
        start = cut[-1] if cut else start
    return (start, end) if end - start >= 2 else None


def unknown_countries(t: Text, places: list[Place]) -> tuple[str, ...]:
    found: dict[str, int] = {}
    for pattern in _UNKNOWN_PATTERNS:
        for m in pattern.finditer(t.raw):
            span = _candidate(t, m)
            if span is None or any(p.start < span[1] and span[0] < p.end for p in places):
                continue
            word = t.raw[span[0] : span[1]]
            if fold(word) not in _NOT_A_COUNTRY:
                found.setdefault(word, span[0])
    return tuple(sorted(found, key=found.__getitem__))
