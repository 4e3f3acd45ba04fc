"""PERSON in free text from the world's name lists and the words around a name.

Rules, strongest first (scores in parentheses):
- context (0.8): capitalised words after a title ("Mrs. Florence Briggs", "Herr Okafor"), after "née"
  ("née Thayer"), after an introduction ("this is", "my name is", "I'm", "ich bin", "me llamo"), a
  greeting ("Hi", "Dear", "Hallo") or a sign-off ("Thanks,", "Regards,", "Cheers,"), and the surname
  of "Surname, Title Given" ("Cumings, Mrs. ..."): names no list holds are caught this way;
- lists: a given name and a surname next to each other, either order (0.85, or 0.5 when one is also an
  ordinary word); a well-ranked given name that is not an ordinary word followed by any capitalised
  word that is not an ordinary word either (0.6); a surname followed by such a given name, or a
  hyphenated given name ("Park Ji-sung", "Wang Fang"; 0.6).
A common word (name_data.common_words) alone never makes a name, and Title Case text (a headline,
a product list) gets only the strongest list rule. Cyrillic and Greek names work like Latin ones.
"""

from __future__ import annotations

import re as stdre

from sanitize.detect.name_data import NEVER_NAMES, PARTICLES, TITLES, WorldNames, world_names

# a word: letters, inner apostrophes/hyphens, and a final dot kept for titles and initials
TOKEN = stdre.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*\.?")
GIVEN_RANK = 1000  # a given name for "given + surname"
STRONG_GIVEN_RANK = 600  # a given name strong enough to take an unknown capitalised word after it
TOP_SURNAME_RANK = 50  # a surname common enough to make the unlisted word before it a given name
COMMON_GIVEN_RANK = 100  # an ordinary word that is a given name first ("Grace", "Rose", "Mark")


def _phrases(text: str) -> frozenset[str]:
    return frozenset(" ".join(p.split()) for p in text.split("|") if p.strip())


# Words before a name, as lower-case phrases of the words the tokenizer sees ("i'm" is one word)
INTROS = _phrases(
    """this is|it's|it is|my name is|my name's|i'm|i am|name is|signed|signed by|ich bin|ich heiße|
    ich heisse|mein name ist|je suis|je m'appelle|mon nom est|me llamo|mi nombre es|soy|mi chiamo|
    il mio nome è|sono|meu nome é|chamo-me|eu sou|ik ben|mijn naam is|jag heter|jeg heter|jeg hedder|
    nazywam się|jestem|benim adım|adım|ben|меня зовут|я|το όνομά μου είναι|λέγομαι|a nevem|
    minun nimeni on|olen|is mise|jina langu ni|naitwa|orúkọ mi ni|aha m bụ|tên tôi là"""
)
MAIDEN = _phrases("née|nee|geb|geborene|born|z domu|született|урожд|урождённая|nata|nacida")
LABELS = _phrases("name|full name|contact|contact person|attn|attention|signed by|customer|patient|passenger")
GREETINGS = _phrases(
    """hi|hello|hey|dear|hallo|liebe|lieber|sehr geehrte|sehr geehrter|moin|servus|bonjour|bonsoir|
    salut|cher|chère|hola|querida|querido|estimada|estimado|ciao|salve|gentile|caro|cara|olá|prezada|
    prezado|beste|hoi|hej|hei|moi|merhaba|sayın|szia|kedves|cześć|witaj|привет|здравствуйте|дорогой|
    дорогая|уважаемый|уважаемая|γεια σου|αγαπητέ|αγαπητή|habari|jambo|dia dhuit|a chara|xin chào|chào"""
)
SIGN_OFFS = _phrases(
    """thanks|thank you|many thanks|thanks again|thx|ta|regards|best regards|kind regards|warm regards|
    warmly|cheers|best|best wishes|all the best|sincerely|yours sincerely|yours truly|yours|love|
    cordialement|bien à vous|amitiés|merci|saludos|un saludo|atentamente|gracias|grazie|
    cordiali saluti|saluti|obrigado|obrigada|atenciosamente|abraços|groeten|met vriendelijke groet|mvg|
    danke|vielen dank|mfg|mit freundlichen grüßen|viele grüße|liebe grüße|lg|gruß|grüße|pozdrawiam|
    dziękuję|hälsningar|med vänliga hälsningar|tack|terveisin|kiitos|üdvözlettel|köszönöm|
    saygılarımla|teşekkürler|спасибо|с уважением|благодарю|ευχαριστώ|με εκτίμηση|asante|ẹ ṣeun|daalụ|
    le meas|go raibh maith agat|cảm ơn"""
)
MAX_PHRASE_WORDS = 5
_BREAKS = frozenset("\n.!?;:(")
_KOREAN_GIVEN = stdre.compile(r"^[A-Z][a-z]{1,4}-[a-z]{2,5}$")
# Title Case lines (headlines, product lists): only the strongest list rule and titles apply there
TITLE_CASE_WORDS = 4
TITLE_CASE_SHARE = 0.7
TITLE_CASE_RUN = 5


class _Tok:
    """One word: its span (without a final dot), the word, lower-cased, a final dot, capitalised."""

    __slots__ = ("cap", "dot", "end", "low", "start", "word")

    def __init__(self, start: int, word: str, dot: bool) -> None:
        self.start = start
        self.end = start + len(word)
        self.word = word
        self.low = word.lower()
        self.dot = dot
        self.cap = word[:1].isupper()


def tokens_of(text: str) -> list[_Tok]:
    out = []
    for m in TOKEN.finditer(text):
        raw = m.group()
        if raw[-1] == ".":
            out.append(_Tok(m.start(), raw[:-1], True))
        else:
            out.append(_Tok(m.start(), raw, False))
    return out


def adjacent(text: str, end: int, start: int) -> bool:
    """True when only spaces (no newline or punctuation) separate two words."""
    gap = text[end:start]
    return 0 < len(gap) <= 2 and gap.strip(" ") == ""


def _next_to(text: str, a: _Tok, b: _Tok) -> bool:
    """Word b follows word a in one name: only spaces between, and no full stop after a (an initial's
    or a title's dot is fine)."""
    if a.dot and len(a.word) > 1 and a.low not in TITLES:
        return False
    return adjacent(text, a.end + a.dot, b.start)


class NameRules:
    """The rules above over one list of names; `find(text)` gives (start, end, score) spans."""

    def __init__(self, names: WorldNames | None = None) -> None:
        self.names = names or world_names()
        self.given, self.surnames, self.common = self.names.given, self.names.surnames, self.names.common

    # --- word classes ---------------------------------------------------------------------------

    def is_given(self, low: str, rank: int = GIVEN_RANK) -> bool:
        r = self.given.get(low)
        if r is not None and r <= rank:
            return True
        return "-" in low and all(self.given.get(p, rank + 1) <= rank for p in low.split("-") if p)

    def is_surname(self, low: str) -> bool:
        return low in self.surnames or ("-" in low and all(p in self.surnames for p in low.split("-") if p))

    def nameish(self, t: _Tok) -> bool:
        """A capitalised word that may be part of a name found by context."""
        if not t.cap or t.low in NEVER_NAMES or t.low in TITLES:
            return False
        return t.low not in self.common or self.is_given(t.low) or self.is_surname(t.low)

    # --- finding --------------------------------------------------------------------------------

    def find(self, text: str) -> list[tuple[int, int, float]]:
        toks = tokens_of(text)
        n = len(toks)
        out: list[tuple[int, int, float]] = []
        title_case = self._title_case_lines(text, toks)
        i = 0
        while i < n:
            t = toks[i]
            if not t.cap:
                i += 1
                continue
            j = self._context(text, toks, i, title_case[i])
            if j is not None:
                out.append(j)
                i = self._index_after(toks, j[1], i)
                continue
            found = self._listed(text, toks, i, title_case[i])
            if found is not None:
                out.append(found)
                i = self._index_after(toks, found[1], i)
                continue
            i += 1
        return out

    @staticmethod
    def _index_after(toks: list[_Tok], end: int, i: int) -> int:
        while i < len(toks) and toks[i].start < end:
            i += 1
        return i

    @staticmethod
    def _title_case_lines(text: str, toks: list[_Tok]) -> list[bool]:
        """Per word: is it on a Title Case line (a headline: most words capitalised) or in a run of
        TITLE_CASE_RUN capitalised words (a product or place name: "The Philips Hue White Ambiance")?"""
        flags = [False] * len(toks)
        if sum(t.cap for t in toks) < TITLE_CASE_SHARE * TITLE_CASE_WORDS:
            return flags
        start = run = 0
        for k in range(1, len(toks) + 1):
            if k < len(toks) and toks[k].cap and toks[k - 1].cap and _next_to(text, toks[k - 1], toks[k]):
                continue
            if k - run >= TITLE_CASE_RUN:
                flags[run:k] = [True] * (k - run)
            run = k
            if k == len(toks) or "\n" in text[toks[k - 1].end : toks[k].start]:
                line = toks[start:k]
                caps = sum(t.cap for t in line)
                if len(line) >= TITLE_CASE_WORDS and caps >= TITLE_CASE_SHARE * len(line):
                    flags[start:k] = [True] * (k - start)
                start = k
        return flags

    def _run(self, text: str, toks: list[_Tok], i: int, limit: int = 4) -> int:
        """Index of the last word of the name starting at word i (capitalised words, particles, initials)."""
        j = i
        while j + 1 < len(toks) and j - i + 1 < limit:
            nxt = toks[j + 1]
            if not _next_to(text, toks[j], nxt):
                break
            if nxt.low in PARTICLES:  # "Ó Sé", "van der Berg": the word after particles is in the name
                k = j + 1
                while k < len(toks) and toks[k].low in PARTICLES and k - j <= 3:
                    k += 1
                if (
                    k < len(toks)
                    and toks[k].cap
                    and toks[k].low not in NEVER_NAMES
                    and all(_next_to(text, toks[m], toks[m + 1]) for m in range(j, k))
                ):
                    j = k
                    continue
                break
            if not self.nameish(nxt):
                break
            j += 1
        return j

    def _context(self, text: str, toks: list[_Tok], i: int, headline: bool) -> tuple[int, int, float] | None:
        t = toks[i]
        # a title, then the name
        if t.low in TITLES and i + 1 < len(toks) and (t.dot or (len(t.low) > 1 and not t.word.isupper())):
            nxt = toks[i + 1]
            if nxt.cap and nxt.low not in NEVER_NAMES and adjacent(text, t.end + t.dot, nxt.start):
                last = self._run(text, toks, i + 1)
                return t.start, toks[last].end, 0.8
            return None
        if not self.nameish(t):
            return None
        if i > 0 and self._after_trigger(text, toks, i, headline):
            last = self._run(text, toks, i)
            return t.start, toks[last].end, 0.8
        # "Surname, Title Given": the surname before a comma and a title
        after = text[t.end : t.end + 3]
        if after.startswith(", ") and i + 1 < len(toks) and toks[i + 1].low in TITLES:
            title = toks[i + 1]
            if title.dot or i + 2 < len(toks) and toks[i + 2].cap:
                return t.start, t.end, 0.8
        return None

    @staticmethod
    def _after_trigger(text: str, toks: list[_Tok], i: int, headline: bool) -> bool:
        """Do the words before word i introduce a name (an introduction, "née", "Name:", a greeting or
        a sign-off at the start of a line or sentence)?"""
        gap = text[toks[i - 1].end : toks[i].start]
        if len(gap) > 4:
            return False
        spaces = gap.strip(" ") == ""
        words: list[str] = []
        for k in range(1, MAX_PHRASE_WORDS + 1):
            j = i - k
            if j < 0 or (k > 1 and text[toks[j].end : toks[j + 1].start] != " "):
                break
            words.insert(0, toks[j].low)
            phrase = " ".join(words)
            if spaces and phrase in INTROS:
                return True
            if phrase in MAIDEN and gap.lstrip(".").strip(" ") == "":
                return True
            if phrase in LABELS and gap.strip(" ") == ":":
                return True
            if headline:
                continue
            starts_line = j == 0 or any(c in _BREAKS for c in text[toks[j - 1].end : toks[j].start])
            if not starts_line:
                continue
            if phrase in GREETINGS and gap.strip(" ,") == "":
                return True
            if phrase in SIGN_OFFS and gap.strip(" ,!-\n") == "" and gap.strip(" ") != "":
                return True
        return False

    def _unknown_then_surname(
        self, text: str, toks: list[_Tok], i: int, headline: bool
    ) -> tuple[int, int, float] | None:
        """An unlisted capitalised word before one of the most common surnames: "Haruto Tanaka"."""
        t = toks[i]
        if headline or i + 1 >= len(toks) or len(t.word) < 3 or not t.word[1:].islower():
            return None
        if t.low in self.common or t.low in NEVER_NAMES or t.low in TITLES:
            return None
        nxt = toks[i + 1]
        if (
            nxt.cap
            and _next_to(text, t, nxt)
            and nxt.low not in self.common
            and self.surnames.get(nxt.low, TOP_SURNAME_RANK + 1) <= TOP_SURNAME_RANK
        ):
            return t.start, nxt.end, 0.6
        return None

    def _listed(self, text: str, toks: list[_Tok], i: int, headline: bool) -> tuple[int, int, float] | None:
        t = toks[i]
        n = len(toks)
        common_first = t.low in self.common
        given = self.is_given(t.low)
        surname = self.is_surname(t.low)
        if not (given or surname):
            return self._unknown_then_surname(text, toks, i, headline)
        # middle names and initials, then particles, then the next capitalised word
        j = i + 1
        while (
            j + 1 < n
            and toks[j].cap
            and _next_to(text, toks[j - 1], toks[j])
            and ((len(toks[j].word) == 1 and toks[j].dot) or self.is_given(toks[j].low))
            and toks[j].low not in self.common
            and self.nameish(toks[j + 1])
        ):
            j += 1
        k = j
        while k < n and toks[k].low in PARTICLES and _next_to(text, toks[k - 1], toks[k]):
            k += 1
        if k >= n or not toks[k].cap or not _next_to(text, toks[k - 1], toks[k]):
            return None
        nxt = toks[k]
        if nxt.low in TITLES or nxt.low in NEVER_NAMES or len(nxt.word) < 2:
            return None
        common_next = nxt.low in self.common
        score = 0.0
        if (
            surname
            and _KOREAN_GIVEN.match(nxt.word)
            and self.surnames.get(t.low, TOP_SURNAME_RANK + 1) <= 100
        ):
            score = 0.6  # "Park Ji-hoon", "Han Do-yoon"
        elif given and self.is_surname(nxt.low):
            if not (common_first or common_next):
                score = 0.85
            elif not common_first or (not common_next and self.is_given(t.low, COMMON_GIVEN_RANK)):
                score = 0.5  # "Angus Young", "Grace Kelly"; not "Brown Bread", "San Diego"
            else:
                score = 0.0
        elif surname and self.is_given(nxt.low) and not common_next and (not common_first or "-" in nxt.low):
            score = 0.85 if not common_first and given is False else 0.6
        elif (
            given
            and not common_first
            and not common_next
            and not headline
            and self.is_given(t.low, STRONG_GIVEN_RANK)
        ):
            score = 0.6
        if score <= 0.0 or (headline and score < 0.85):
            return None
        last = k
        # a name goes on: "Gabriel García Márquez", "Nguyễn Thị Mai"
        while (
            last + 1 < n
            and last - i < 4
            and toks[last + 1].cap
            and _next_to(text, toks[last], toks[last + 1])
            and toks[last + 1].low not in self.common
            and toks[last + 1].low not in NEVER_NAMES
            and (self.is_given(toks[last + 1].low) or self.is_surname(toks[last + 1].low))
        ):
            last += 1
        return t.start, toks[last].end, score


__all__ = ["NameRules", "adjacent", "tokens_of"]
