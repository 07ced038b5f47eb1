"""Instructions inside a question are data. This guard spots the common shapes of prompt injection in our 15
languages before anything else runs, so that no backend (curated or LLM) ever acts on them.

Retrieval also matches the ``decline-instructions`` card, but a pattern check does not depend on embedding
similarity, and it is what stops an obedient LLM: the guard decides, not the model.

Patterns are written in plain lower case and folded exactly like the text (``lang.fold``: NFKC, Traditional ->
Simplified, Latin accents and Arabic marks dropped), so "Игнорируй" (й -> и), "無視" (-> 无视) and Thai "คำ" (NFKC
splits the sara am) meet their pattern. Each question is checked in a few forms: as written, with disguises undone
(homoglyphs, leetspeak, s p a c e d letters, base64/URL/HTML encoding) and reversed (the right-to-left override trick).
The suite in ``evals/injection/`` holds attacks and tricky benign questions; ``tests/test_injection.py`` runs both.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from urllib.parse import unquote

from bot.lang import fold

_INJECTION_PATTERNS = [
    # --- ignore / override the instructions (English): the target must be *the assistant's* rules, so "should I
    # ignore the old 500 RMB rule?" stays a question
    r"\b(ignore|disregard|forget|override|bypass|skip)\b.{0,30}\b(your|all|previous|prior|above|earlier|preceding|"
    r"the (above|previous|prior|system|original|initial))\b.{0,25}\b(instruction|rule|prompt|guideline|directive|"
    r"polic(y|ies)|restriction|programming|constraint)",
    r"\b(ignore|disregard|forget)\b.{0,15}\b(everything|all|anything|what)\b.{0,15}\b(above|before|previous|"
    r"you (were|have been|'ve been) told)",
    # "ignore the above" with nothing after it (a visitor correcting a typo writes "ignore the previous question")
    r"\b(ignore|disregard|forget) (everything |all )?(the )?above\b(?! (question|message))",
    r"\bstop following (your|the) (rules|instructions|guidelines)", r"\byour system (message|instructions?|rules)\b",
    r"\bnew (instruction|directive|task|system (message|instruction|prompt))s?\b\s*[:：]",
    r"\b(no|without any) (rules|restrictions|limits|filters)\b.{0,30}\b(answer|now|reply|respond)",
    # --- reveal the prompt
    r"\bsystem prompt\b", r"\b(initial|hidden|secret|original|pre-?)\s?prompt\b",
    r"\b(reveal|show|print|display|repeat|output|paste|leak|dump|summari[sz]e|list|enumerate|paraphrase|tell me|"
    r"give me)\b.{0,30}\b(your|the assistant'?s|the bot'?s|the model'?s)\b.{0,20}\b(instructions|rules|prompt|"
    r"guidelines|directives|configuration|config|programming)\b(?! (for|on|about|regarding|to))",
    r"\b(what|which)\b.{0,12}\b(are|were|is)\b.{0,6}\byour\b.{0,12}\b(initial|original|system|hidden|secret|first|"
    r"exact|real)\b.{0,6}\b(instructions|rules|prompt|guidelines|directives)",
    r"\b(rules|instructions|guidelines|prompt|directives)\b.{0,20}\byou (were|have been|'ve been) (given|told|"
    r"programmed|trained)",
    r"\brepeat (everything|all|the (text|words|message)) (above|before)",
    r"\b(text|words|everything|content) (above|before) (this|my) (message|question|line)",
    # --- role play and modes
    r"\bdeveloper mode\b", r"\bjailbreak", r"\bdo anything now\b",
    # "dan" alone is Indonesian "and" and Vietnamese "dẫn" (hướng dẫn = guide): only with its persona's words
    r"\bdan\b.{0,30}\b(rules?|no (rules|limits|restrictions|filters)|mode)\b",
    r"\b(you are|you're) now\b(?! (in|at|open|closed|available))",
    r"\bfrom now on,? (you|respond as|reply as|act as|behave as|pretend)\b",
    r"\bpretend (to be|you are|you're)\b", r"\bact as\b.{0,40}\b(no limit|without (any )?(limit|restriction)|"
    r"unrestricted|another|different)", r"\brole-?play\b", r"\b(admin|administrator|developer) (override|mode|access)",
    # --- chat-template and markup tricks
    r"\[/?(system|inst|sys)\]", r"<<\s*/?\s*sys\s*>>", r"<\|?\s*(system|im_start|im_end|endoftext)",
    r"<\s*/?\s*(system|instructions?|admin|assistant|developer|sys)\s*>", r"<!--", r"#{2,}\s*(instruction|system|"
    r"response)s?\b", r"[\"']role[\"']\s*:\s*[\"'](system|assistant|developer)",
    r"(^|[.!?;»」』)\]>]\s*)(system|systeme|sistema|система|システム|시스템|系统|النظام|ระบบ|he thong|admin|developer|"
    r"assistant)\s*(message|note|prompt|override|instruction)?\s*[:：]",
    r"\bnote (to|for) (the )?(assistant|ai|bot|model|llm|chatbot|system)\b",
    r"\b(assistant|ai|bot|model|llm)\s*(note|instruction|directive)s?\s*[:：]",
    # "translate this and do it", "decode this and follow it"
    r"(translate|traduis|traduce|traduz|traduci|ubersetze|翻译|翻訳|번역|переведи|dich|terjemahkan|แปล|ترجم|"
    r"decode|解码|デコード|디코딩|декодируи|decodifica|dekodiere|giai ma|ถอดรหัส|فك).{0,80}(execute|\brun\b|obey|"
    r"follow (it|them|those|these|the instructions)|do (what|as) it says|carry (it|them) out|照做|执行|実行|실행|"
    r"выполни|execute[rz]?|ejecuta|executa|esegui|ausfuhren|befolge|thuc hien|jalankan|ikuti|ทำตาม|نفذ)",
    # --- planted sources the visitor asks us to repeat or confirm
    r"(according to|per|as stated (in|by)) (the )?(official )?source\s*\[\d+\]",
    r"\[\d+\].{0,200}(confirm|确认|확인|подтверд|bestatig|konfirm|xac nhan|ยืนยัน|اكد)",
    r"\b(source|passage|document|doc|ref)\s*\[\s*\d+\s*\]", r"\[\s*(source|passage|doc|document|ref)\b[^\]]{0,20}\]",
    r"\[\s*[\w-]+(\.[\w-]+)*\.(gov|cn|com|org|net|hk)(\.\w+)?\s*\]", r"\bthe passages\b",
    r"\b(cite|quote)\b.{0,10}\b(passage|source)s?\b",
    # --- data exfiltration: secrets, other visitors' data, sending things out, SQL
    r"\b(api[ _-]?keys?|access tokens?|secret keys?|environment variables?|env vars?|os\.environ|sqlite)\b",
    r"(^|\s)\.env\b", r"\b(your|the (bot|assistant|server)'?s?) (database|logs?|config(uration)? files?|secrets?|"
    r"credentials)\b", r"\b(feedback|user) (database|db|table|logs?)\b",
    r"\b(other|previous|earlier|all) (users?|visitors?|people|customers?)'?s?\b.{0,30}\b(questions?|conversations?|"
    r"chats?|messages?|history|data|asked|queries)", r"\b(questions?|conversations?|chats?|history) (of|from) "
    r"(other|previous) (users?|visitors?|people)",
    r"!\[[^\]]*\]\(\s*https?://", r"<\s*img\b", r"\b(send|post|forward|upload|submit|transmit|exfiltrate)\b.{0,60}"
    r"https?://", r";\s*(drop|delete|truncate|alter|insert|update)\s+(table|from|into|database)\b",
    r"\bunion\s+(all\s+)?select\b", r"'\s*or\s+'?1'?\s*=\s*'?1",
    # --- Chinese (folded to Simplified); "系统提示我付款失败" is the system telling the visitor something
    r"(忽略|无视|忘记|忘掉|不要理|唔好理|别管|不用管).{0,12}(指令|指示|规则|提示|设定|限制|要求)",
    r"(系统提示词|提示词|系统指令|内部配置|内部规则|开发者模式|越狱|管理员已授权|没有任何限制|冇任何限制|不受任何限制)",
    r"(你|您)的?(初始|原始|系统|内部|隐藏|最初的?|全部|完整的?){1,3}(设定|设置|指令|指示|提示词?|规则|配置)",
    r"(输出|显示|告诉我|发给我|给我看|泄露|透露|打印|重复|贴出|展示|公开|列出|附上).{0,4}(系统提示|系统设定)",
    r"(从现在起|从现在开始)你", r"你现在是(dan|一个没有|没有|不受|无限制)", r"(扮演|假装(你是|成)|角色扮演)",
    r"(新指令|系统通知)", r"(其他|别的|之前的?)(用户|人|访客|游客)的?.{0,6}(提问|问题|记录|对话|聊天|历史|数据)",
    r"(api|访问)?(密钥|令牌)|配置文件|环境变量|数据库",
    # Japanese (kanji folded like Chinese: 無視 -> 无视)
    r"(指示|命令|プロンプト|設定).{0,6}(無視|忘れ)",
    r"(これまで|以前|前|上記|今まで|すべて|全て)の(ルール|規則).{0,6}(無視|忘れ)",
    r"(システムプロンプト|開発者モード|ロールプレイ|なりきって|なりきり|制限なしで|制限なく|ふりをして)",
    r"他の(ユーザー|利用者|人).{0,6}(質問|履歴|会話|データ)",
    # Korean
    r"(지시|명령|지침|프롬프트).{0,6}(무시|잊어)", r"(이전|모든|위의|앞의|기존)\s*(규칙|지시|명령|지침).{0,6}(무시|잊)",
    r"(시스템 ?프롬프트|개발자 ?모드|역할극|제한 없이|(너|넌|당신)(는|은)? 이제)",
    r"다른 (사용자|이용자|사람)들?의? .{0,6}(질문|기록|대화|데이터)",
    # Russian
    r"(игнорируй|забудь|не обращай внимания).{0,30}(инструкц|правил|указан)",
    r"(системн\w* промпт|режим\w* разработчика|без ограничении|притворись|представь, что ты|теперь ты)",
    r"(других|остальных|чужих?) (пользовател|посетител)\w*", r"(ключ api|api[- ]ключ|переменные окружения)",
    # French, Spanish, Portuguese, Italian: a determiner that points at *the assistant's* rules must follow the verb
    r"\b(ignore[zs]?|oublie[zs]?|ignora|ignore|olvida|esquece|esqueca|dimentica)\b(?=.{0,40}\b(vos|tes|toutes|"
    r"precedentes|ci-dessus|tus|todas|anteriores|previas|suas|seus|tue|tutte|precedenti|sopra|systeme|sistema))"
    r".{0,40}\b(instructions?|regles|consignes|instrucciones|reglas|instrucoes|regras|istruzioni|regole|"
    r"linee guida)",
    r"(prompt (systeme|del sistema|do sistema|di sistema)|mode developpeur|modo desarrollador|modo desenvolvedor|"
    r"modalita sviluppatore|instrucciones ocultas|fais semblant|fais comme si tu|finja que|finge (que|ser)|"
    r"fingi di essere|fai finta di essere|haz como si|tu es maintenant|ahora eres|agora voce e|ora sei|"
    r"joue le role|juega el papel)",
    r"(conversations|questions|historique|donnees|conversaciones|preguntas|historial|datos|conversas|perguntas|"
    r"historico|dados|conversazioni|domande|cronologia|dati) (des|d'|de|di|degli|dos|das)\s?(autres|otros|outros|"
    r"outras|altri|demas) (utilisateurs|usuarios|utilizadores|utenti|visiteurs|visitantes|visitatori)",
    # German
    r"\b(ignoriere|vergiss)\b.{0,30}\b(anweisung|regel|vorgabe)", r"(systemprompt|system-prompt|entwicklermodus)",
    r"(tu so, als|stell dir vor, du bist|du bist jetzt|rollenspiel)", r"(api-schlussel|umgebungsvariablen)",
    r"(fragen|gesprache|verlauf|daten) (anderer|der anderen) (nutzer|benutzer|besucher)",
    # Vietnamese (accents folded), Thai, Indonesian, Arabic (folded)
    # "quên" (forget) folds to "quen", which is also "used to": only "forget all/every …"
    r"\b(bo qua|quen (het|tat ca|moi|cac|nhung))\b.{0,20}(huong dan|quy tac|chi dan|lenh)",
    r"(prompt he thong|che do nha phat trien|khong gioi han)",
    r"(dong vai|gia vo (la|lam)|bay gio ban la)", r"(cau hoi|lich su|cuoc tro chuyen|du lieu) (cua )?nguoi dung khac",
    r"(เพิกเฉย|ละเว้น|ลืม|ไม่ต้องสนใจ|ไม่ต้องทำตาม).{0,15}(คำสั่ง|คำแนะนำ|กฎ|ข้อกำหนด)",
    r"(พรอมต์ระบบ|โหมดนักพัฒนา|กฎที่ผู้พัฒนา|แกล้งทำเป็น|สวมบทบาท|เล่นบทบาท|ตอนนี้คุณคือ)",
    r"(คำถาม|ประวัติ|บทสนทนา).{0,10}ผู้ใช้(คน)?อื่น",
    r"\b(abaikan|lupakan)\b.{0,20}(instruksi|aturan|perintah)", r"(prompt sistem|mode pengembang|tanpa batas)",
    r"(berpura-pura|pura-pura|anggap (kamu|dirimu) (adalah|sebagai)|sekarang kamu adalah)",
    r"(pertanyaan|riwayat|percakapan|data) (dari )?pengguna lain",
    r"(تجاهل|(^|\s)انسى?\s).{0,20}(التعليمات|القواعد|تعليماتك)",
    r"(موجه النظام|وضع المطور|بلا قيود|تظاهر|تقمص|انت الان)",
    r"(اسئله|سجل|محادثات|بيانات) (المستخدمين|الزوار) الاخرين",
]

# Checked on the NFKC text with its case: an all-caps role marker or the DAN persona is a command, while "system:" or
# "Dan" in lower or title case can be ordinary words. (No \b around DAN: "你现在是DAN" has no word boundary.) Skipped
# when the whole question is in capitals: "PAJAK DAN BEA CUKAI" is an Indonesian visitor with caps lock on.
_CASED = re.compile(
    r"(?<![A-Za-z])DAN(?![A-Za-z])|\b(SYSTEM|SYSTÈME|SISTEMA|СИСТЕМА|ADMIN|DEVELOPER|ASSISTANT)\s*[:：]"
)

# Letter runs glued back together ("i g n o r e a l l p r e v i o u s" -> "ignoreallprevious"): no word boundaries
# survive the squashing, so these are whole phrases.
_SQUASHED = re.compile(
    r"(ignore|disregard|forget|override)(all|your|of|the|my)*(previous|prior|above|earlier|preceding|system|original|"
    r"initial)(instructions?|rules|prompts?|guidelines)|(ignore|disregard|forget)(all|your)+(instructions?|rules|"
    r"prompts?|guidelines)|systemprompt|developermode|jailbreak|doanythingnow"
)


def _compile(patterns: list[str]) -> re.Pattern[str]:
    for p in patterns:
        if re.search(r"\\[A-Z]", p):  # fold() case-folds the pattern too, which would turn \S into \s
            raise ValueError(f"guard patterns use lower-case escapes only: {p}")
    return re.compile("|".join(f"(?:{fold(p)})" for p in patterns), re.IGNORECASE)


_INJECTION = _compile(_INJECTION_PATTERNS)

# ---------------------------------------------------------------- disguises

# Cyrillic and Greek letters that look Latin, swapped only inside words that also hold Latin letters ("іgnоrе"), so
# Russian text keeps its letters.
_HOMOGLYPHS = str.maketrans("аеорсухіјѕԁһӏɑοιαρτκνɡ", "aeopcyxijsdhlaoiaptkvg")
_LOOKALIKE = re.compile(r"[\u0250-\u02af\u0370-\u03ff\u0400-\u04ff]")
_LEET = str.maketrans("013457@$", "oieastas")
_WORD = re.compile(r"[\w@$]*[a-z][\w@$]*")
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*|/]){3,}\w(?!\w)")
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _undisguise(folded: str) -> str:
    def word(m: re.Match[str]) -> str:  # a word holding at least one Latin letter
        w = m.group()
        if _LOOKALIKE.search(w):
            w = w.translate(_HOMOGLYPHS)
        if re.search(r"[0-9@$]", w) and not re.fullmatch(r"\d+[a-z]{0,3}", w):
            w = w.translate(_LEET)  # "1gn0r3", not "240h", "5g" or "10am"
        return w

    text = _WORD.sub(word, folded)
    return _SPACED.sub(lambda m: re.sub(r"[ .\-_*|/]", "", m.group()), text)


def _decoded(text: str) -> list[str]:
    """Payloads hidden in base64, URL or HTML encoding, decoded once."""
    found = []
    for token in _B64.findall(text):
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if raw.isprintable():
            found.append(raw)
    unescaped = html.unescape(unquote(text))
    if unescaped != text:
        found.append(unescaped)
    return found


def _forms(text: str) -> list[str]:
    folded = fold(text)
    plain = _undisguise(folded)
    forms = [folded, plain, folded[::-1]]
    for payload in _decoded(text):
        forms += [fold(payload), _undisguise(fold(payload))]
    return forms


def _caps_lock(text: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 4 and not re.search(r"[a-z]", text)


def looks_like_injection(text: str) -> bool:
    """True when the text tries to steer the assistant instead of asking it something."""
    if _CASED.search(text) and not _caps_lock(text):
        return True
    forms = _forms(text)
    if any(_INJECTION.search(f) for f in forms):
        return True
    return any(_SQUASHED.search(re.sub(r"[\W_]+", "", f)) for f in forms[:2])


# ---------------------------------------------------------------- evasion

# Requests to get around a rule rather than to follow it: "without them noticing", "not get caught", fake papers,
# hiding things from customs, black-market exchange. A factual card would answer the rule, but the visitor asked
# how to evade it, so these are declined (with the decline card that retrieval finds closest). Compliance questions
# that share words stay answerable: "how do I avoid getting fined for late registration?", "pay without fees".
# "falsified" (es, pt, it) unless it is banknotes someone fears being given: that is a question about changing money
_FORGED = r"(?<!billetes )(?<!monedas )(?<!notas )(?<!cedulas )(?<!moedas )(?<!banconote )(?<!monete )falsific"
_EVASION_PATTERNS = [
    r"\b(without|so that|so) (them|anyone|immigration|customs|the police|the border|they|it being)\b.{0,20}"
    r"\b(notic|know|find|catch|detect|see)",
    r"\b(not|never|without) (get(ting)?|being) (caught|noticed|detected|spotted)", r"\bavoid (get(ting)?|being) "
    r"(caught|noticed|detected|spotted)", r"\boverstay.{0,30}\b(without|not) (get(ting)?|being) (fined|punished|"
    r"deported|stopped)",
    r"\bget away with\b", r"\bsneak\b", r"\bsmuggl", r"\b(fake|forged|counterfeit)\b.{0,20}\b(ticket|booking|invoice|"
    r"receipt|document|passport|visa|reservation|itinerary|papers?|id)\b",
    r"\b(fool|trick|cheat|bypass|evade|dodge|circumvent)\b.{0,30}\b(customs|border|immigration|check|officer|rule)",
    r"\bblack market\b", r"\bunder the table\b", r"\blaunder",
    r"(不被发现|不被查|看不出来|瞒住|瞒过|骗过|蒙混|逃避|躲过|黑市|私下换|地下钱庄|假发票|假机票|假的?订单|有什么门路|不被罚|"
    r"唔俾人知|唔被发现|偷偷|冒充|伪造|避开(海关|边检|检查|查验|监管)|绕过(海关|边检|检查|规定|限制|监管)|(俾人|被人)查到)",
    # "点样先可以避开?" (avoid *it*): the object left out is the check the question was about
    r"(点样|怎样|怎么|如何)(先|才)?(可以|能)?避开\s*[?？]?\s*$",
    r"(バレない|ばれない|見つからない|ごまかす|偽造|闇両替)", r"(안 걸리|걸리지 않|몰래|위조|속이)",
    r"(чтобы не (заметил|узнал|поймал)|незаметно|подделать|поддельн(?!\w* (?:купюр|денег|деньг))|"
    r"обойти (правил|контрол|границ|закон|таможн))",
    r"(нелегально|незаконно|просроч\w*).{0,80}чтобы не (оштраф|депорт|выслал)",
    r"(sans (que|qu')\s?(personne|la police|la douane|les douaniers|l'immigration|on (le|me|s'en))|sans etre (vu|pris|"
    r"repere)|pour ne pas (etre|se faire) (pris|attrape|remarque|repere|controle)|en cachette|faux billet|"
    r"fausse facture|frauder)",
    r"(sin que (nadie|migracion|inmigracion|la policia|la aduana|aduanas?|me (pillen|descubran|vean))|que no me "
    r"(pillen|descubran)|" + _FORGED + r"|a escondidas)",
    r"(ohne dass (es )?(jemand|die polizei|der zoll|die behorde\w*|die grenz\w*|man es merkt)|ohne erwischt|nicht "
    r"erwischt|heimlich|gefalscht|falsche (buchung|rechnung)|(regel\w*|kontrolle\w*|zoll|vorschrift\w*) (zu )?umgehen)",
    r"(sem que (ninguem|a policia|a alfandega|a imigracao|percebam|me peguem)|sem ser pego|" + _FORGED + r"|"
    r"(esconder|escondid[oa]s?) (d[ao]s? )?(alfandega|policia|imigracao|fiscal))",
    r"(senza che (nessuno|la polizia|la dogana|l'immigrazione|se ne accorg)|di nascosto|" + _FORGED + r"|"
    r"senza farmi (beccare|scoprire))",
    r"(khong bi phat hien|khong bi bat|tron (thue|ve|hai quan|kiem tra)|lam gia|lach luat)",
    r"(qua han|bat hop phap).{0,80}khong bi (phat|truc xuat|bat)",
    # "fake" alone is no evasion: a visitor afraid of counterfeit notes ("ได้ยินว่ามีคนโดนแบงก์ปลอม", "takut dapat uang
    # palsu") asks where to change money safely
    r"(ไม่ให้โดนจับ|ไม่ให้ถูกจับ|(?<!แบงก์)(?<!เงิน)(?<!ธนบัตร)(?<!แบงค์)ปลอม|แอบ(นำ|เอา|ขน|ซ่อน|พก|อยู่)|"
    r"หลบเลี่ยง)",
    r"(tidak ketahuan|biar tidak ketahuan|tanpa ketahuan|(?<!uang )palsu|diam-diam|mengakali)",
    r"(دون ان (يلاحظ|يعرف|يكتشف|يراني|تلاحظ)|بدون ان يلاحظ|(?<!عملة )(?<!عملات )(?<!نقود )(?<!اموال )مزور|"
    r"تزوير|التحايل)",
]
_EVASION = _compile(_EVASION_PATTERNS)


def asks_to_evade(text: str) -> bool:
    """True when the question asks how to get around a rule (evade checks, fake papers, not get caught)."""
    return bool(_EVASION.search(fold(text)))
