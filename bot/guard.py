"""Instructions inside a question are data. This guard spots the common shapes of prompt injection in our 15
languages before anything else runs, so that no backend (curated or LLM) ever acts on them.

Retrieval also matches the ``decline-instructions`` card, but a pattern check does not depend on embedding
similarity, and it is what stops an obedient LLM: the guard decides, not the model.
"""

from __future__ import annotations

import re

from .lang import fold

_PATTERNS = [
    # English
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|prompt|guideline|polic(y|ies)|"
    r"restriction|told)",
    r"\b(reveal|show|print|display|repeat|output|paste|leak|tell me|give me|what (is|are))\b.{0,40}"
    r"\b(system|hidden|secret|internal|initial|original)\b.{0,20}\b(prompt|instruction|rule|config)",
    r"\b(your|the)\s+(full |exact |whole |complete )?(system prompt|instructions|configuration|config)\b",
    r"\bsystem prompt\b", r"\bdeveloper mode\b", r"\bjailbreak", r"\bdo anything now\b", r"\bdan\b.{0,30}\b(rule|no)",
    r"\byou are now\b", r"\bfrom now on,? you\b", r"\bpretend (to be|you are|you're)\b", r"\bact as\b.{0,40}"
    r"\b(no limit|without (any )?(limit|restriction)|unrestricted|another|different)",
    r"\brole-?play\b", r"^\s*(system|assistant|developer)\s*[:：]", r"\[(system|inst)\]", r"<\|?(system|im_start)",
    r"\brepeat (everything|all|the text) (above|before)", r"\bno (rules|restrictions|limits)\b.{0,30}\b(answer|now)",
    # Planted "sources" the visitor asks us to confirm
    r"(according to|per|as stated (in|by)) (the )?(official )?source\s*\[\d+\]",
    r"\[\d+\].{0,200}(confirm|确认|확인|подтверд|bestatig|konfirm|xac nhan|ยืนยัน|اكد)",
    # Chinese (folded to Simplified)
    r"(忽略|无视|忘记|不要理|唔好理|别管).{0,12}(指令|指示|规则|提示|设定|限制|要求)",
    r"(系统提示|提示词|系统指令|内部配置|内部规则|开发者模式|越狱|管理员已授权|没有任何限制|冇任何限制)",
    r"(你现在是|从现在起你|扮演|假装你是|角色扮演)", r"(新指令|系统通知)",
    # Japanese
    r"(指示|ルール|命令|設定).{0,6}(無視|忘れ)", r"(システムプロンプト|開発者モード|ロールプレイ|なりきって|制限なし)",
    # Korean
    r"(지시|규칙|명령|지침).{0,6}(무시|잊어)", r"(시스템 ?프롬프트|개발자 ?모드|역할극|제한 없이)",
    # Russian
    r"(игнорируй|забудь|не обращай внимания).{0,30}(инструкц|правил|указан)",
    r"(системн\w* промпт|режим\w* разработчика|без ограничений|притворись)",
    # French, Spanish, Portuguese, Italian
    r"\b(ignore[zs]?|oublie[zs]?|ignora|ignore|olvida|esquece|dimentica)\b.{0,30}\b(instructions?|r[eè]gles|"
    r"instrucciones|reglas|instru[cç][õo]es|regras|istruzioni|regole|linee guida)",
    r"(prompt (syst[eè]me|del sistema|do sistema|di sistema)|mode d[ée]veloppeur|modo desarrollador|"
    r"modo desenvolvedor|modalit[aà] sviluppatore|instrucciones ocultas|fais semblant|finja que|finge (que|ser))",
    # German
    r"\b(ignoriere|vergiss)\b.{0,30}\b(anweisung|regel|vorgabe)", r"(systemprompt|system-prompt|entwicklermodus)",
    # Vietnamese (accents folded), Thai, Indonesian, Arabic (folded)
    r"\bbo qua\b.{0,20}(huong dan|quy tac|chi dan|lenh)", r"(prompt he thong|che do nha phat trien|khong gioi han)",
    r"(เพิกเฉย|ละเว้น|ลืม)คำสั่ง", r"(พรอมต์ระบบ|โหมดนักพัฒนา|กฎที่ผู้พัฒนา)",
    r"\babaikan\b.{0,20}(instruksi|aturan|perintah)", r"(prompt sistem|mode pengembang|tanpa batas)",
    r"تجاهل.{0,20}(التعليمات|القواعد|تعليماتك)", r"(موجه النظام|وضع المطور|بلا قيود)",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def looks_like_injection(text: str) -> bool:
    """True when the text tries to steer the assistant instead of asking it something."""
    return bool(_INJECTION.search(fold(text)))


# Requests to get around a rule rather than to follow it: "without them noticing", "not get caught", fake papers,
# hiding things from customs, black-market exchange. A factual card would answer the rule, but the visitor asked
# how to evade it, so these are declined (with the decline card that retrieval finds closest).
_EVASION_PATTERNS = [
    r"\b(without|so that|so) (them|anyone|immigration|customs|the police|the border|they|it being)\b.{0,20}"
    r"\b(notic|know|find|catch|detect|see)",
    r"\b(not|never|avoid|without) (get(ting)?|being) (caught|noticed|detected|fined|deported)",
    r"\bget away with\b", r"\bsneak\b", r"\bsmuggl", r"\bfake (ticket|booking|invoice|receipt|document|passport)",
    r"\b(fool|trick|cheat|bypass|evade|dodge|circumvent)\b.{0,30}\b(customs|border|immigration|check|officer|rule)",
    r"\bblack market\b", r"\bunder the table\b", r"\blaunder",
    r"(不被发现|不被查|看不出来|瞒住|瞒过|骗过|蒙混|逃避|避开检查|躲过|绕过|黑市|私下换|地下钱庄|假发票|假机票|假的?订单|"
    r"有什么门路|不被罚|唔俾人知|唔被发现|避开|偷偷|冒充|伪造)",
    r"(バレない|ばれない|見つからない|ごまかす|偽造|闇両替)", r"(안 걸리|걸리지 않|몰래|위조|속이)",
    r"(чтобы не (заметил|узнал|поймал|оштрафовал)|незаметно|подделать|поддельн|обойти)",
    r"(sans que|pour ne pas (etre|se faire)|en cachette|faux billet|fausse facture|frauder)",
    r"(sin que (nadie|inmigracion|la policia|aduanas|se)|que no me (pillen|descubran)|falsific|a escondidas)",
    r"(ohne dass|heimlich|gefalscht|falsche (buchung|rechnung)|umgehen)",
    r"(sem que|sem ser pego|falsific|escondid)", r"(senza che|di nascosto|falsific|senza farmi (beccare|scoprire))",
    r"(khong bi phat hien|khong bi phat|\btron\b|lam gia|lach luat)", r"(ไม่ให้โดนจับ|ไม่ให้ถูกจับ|ปลอม|แอบ|หลบเลี่ยง)",
    r"(tidak ketahuan|biar tidak ketahuan|tanpa ketahuan|palsu|diam-diam|mengakali)",
    r"(دون أن|دون ان|بدون أن يلاحظ|مزور|تزوير|التحايل)",
]
_EVASION = re.compile("|".join(f"(?:{p})" for p in _EVASION_PATTERNS), re.IGNORECASE)


def asks_to_evade(text: str) -> bool:
    """True when the question asks how to get around a rule (evade checks, fake papers, not get caught)."""
    return bool(_EVASION.search(fold(text)))
