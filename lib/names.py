"""What a name a person types may be: a label, a speed group, a schedule profile, a rule
(and the feeds and tokens to come).  One check for all of them, said once in docs/api.rst
("Names"): 1 to MOST characters (a label: up to MAX_LABEL bytes of UTF-8), spaces at either
end dropped, and no control character (C0, DEL, C1) or line break anywhere.  A kind whose
client allows fewer characters (rTorrent's speed groups) says so with `allowed`."""
import re
import unicodedata

MOST = 64                       # characters of a name
MAX_LABEL = 1024                # bytes of a label (UTF-8), what the clients keep without trouble
LINE_BREAKS = frozenset('\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')    # what str.splitlines() splits at
SHOWN_MOST = 80                 # characters of a refused name an error repeats
RULE = 'no control characters or line breaks'


def is_control(ch):
    """C0, DEL and C1 (Unicode's category Cc)."""
    return unicodedata.category(ch) == 'Cc'


def shown(text):
    """The text as an error can repeat it: a line break as '⏎', any other control
    character as \\xNN, cut after SHOWN_MOST characters."""
    out = ''.join('⏎' if ch in LINE_BREAKS else '\\x%02x' % ord(ch) if is_control(ch) else ch
                  for ch in text[:SHOWN_MOST])
    return out + ('…' if len(text) > SHOWN_MOST else '')


def what_is_wrong(text):
    """Why this text cannot be a name, in words ('holds a line break'), or None."""
    for ch in text:
        if ch in LINE_BREAKS:
            return 'holds a line break'
        if is_control(ch):
            return 'holds a control character (U+%04X)' % ord(ch)
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return 'is not valid text (a lone UTF-16 surrogate)'
    return None


def check(kind, name, most=MOST, allowed=None, allowed_words=''):
    """The name with the spaces at either end dropped, or ValueError in words naming the
    kind ('group'), the name as typed, and what a name may be.  most: characters (for a
    label: bytes of UTF-8); allowed: a regex of one character that every character must
    match as well, described by allowed_words ("letters, digits, '_', '-' and '.'")."""
    label = kind == 'label'
    what = 'the label' if label else 'the %s name' % kind
    rule = ('a label is 1 to %d bytes of text, %s' % (most, RULE) if label else
            '%s names are 1 to %d characters%s, %s' % (kind, most, allowed_words and ' among ' + allowed_words, RULE))
    if not isinstance(name, str):
        raise ValueError('%s must be text; %s' % (what, rule))
    wrong = what_is_wrong(name)
    clean = name.strip(' ')
    if wrong is None and clean != clean.strip():
        wrong = 'begins or ends with white space'
    if wrong is None and not clean:
        wrong = 'is empty'
    size = len(clean.encode('utf-8')) if label and wrong is None else len(clean)
    if wrong is None and size > most:
        wrong = 'is %d %s long (at most %d)' % (size, 'bytes' if label else 'characters', most)
    odd = [ch for ch in clean if not re.fullmatch(allowed, ch)] if wrong is None and allowed else []
    if odd:
        wrong = "holds '%s'" % odd[0] + (' (a space)' if odd[0] == ' ' else '')
    if wrong is not None:
        raise ValueError("%s '%s' %s; %s" % (what, shown(name), wrong, rule))
    return clean
