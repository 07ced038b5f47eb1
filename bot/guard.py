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
