"""TaskRouter expressions: parse Twilio's SQL-like attribute language once, then test attributes against it."""

from __future__ import annotations

import functools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import ClassVar, Final

__all__ = [
    "MISSING",
    "And",
    "Attribute",
    "Comparison",
    "Expression",
    "ExpressionError",
    "ListLiteral",
    "Literal",
    "Operand",
    "Operator",
    "Or",
    "Resolver",
    "Scalar",
    "evaluate",
    "is_match_all",
    "matches",
    "parse",
    "references",
    "resolver_for",
    "scope_for",
]


class _Missing(Enum):
    MISSING = auto()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING
"""What a resolver returns for an attribute path that leads nowhere."""

Scalar = str | int | float | bool | None
Resolver = Callable[[tuple[str, ...]], object]
"""Maps an attribute path (its dotted parts) to its value, or to MISSING."""

_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "TRUE", "FALSE", "NULL"})


def _keyword(word: str) -> bool:
    # ASCII only: str.upper() folds some non-ASCII letters onto ASCII ones (dotless "\u0131n" -> "IN").
    return word.isascii() and word.upper() in _KEYWORDS


_FIRST_SEGMENT: Final = re.compile(r"[^\W\d]\w*")
_SEGMENT: Final = re.compile(r"\w+")


class ExpressionError(ValueError):
    """Invalid expression text; `position` is the 0-based character offset of the fault."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------------- values


def _is_number(value: object) -> bool:
    # bool is an int subclass, but `true == 1` must not hold.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


def _same(left: object, right: object) -> bool:
    """Equality without Python's cross-type coercions (True == 1, 1 == 1.0 is kept: both are numbers)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, str):
        return isinstance(right, str) and left == right
    if _is_number(left):
        return _is_number(right) and left == right
    if left is None:
        return right is None
    if isinstance(left, list | tuple):
        return (
            isinstance(right, list | tuple)
            and len(left) == len(right)
            and all(_same(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, Mapping):
        return (
            isinstance(right, Mapping)
            and left.keys() == right.keys()
            and all(_same(value, right[key]) for key, value in left.items())
        )
    return False


def _member(item: object, values: Sequence[object]) -> bool:
    return any(_same(item, value) for value in values)


def _ordered(left: object, right: object) -> bool:
    return (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str))


def _equals(left: object, right: object) -> bool:
    return _same(left, right)


def _not_equals(left: object, right: object) -> bool:
    # Present-but-different values of different types do differ: `worker.contact_uri != task.ignore` must match
    # when the task carries null there. Only a missing side makes `!=` false, and that is decided by the caller.
    return not _same(left, right)


def _less(left: object, right: object) -> bool:
    return _ordered(left, right) and left < right  # type: ignore[operator]


def _greater(left: object, right: object) -> bool:
    return _ordered(left, right) and left > right  # type: ignore[operator]


def _less_or_equal(left: object, right: object) -> bool:
    return _ordered(left, right) and left <= right  # type: ignore[operator]


def _greater_or_equal(left: object, right: object) -> bool:
    return _ordered(left, right) and left >= right  # type: ignore[operator]


def _in(left: object, right: object) -> bool:
    if not isinstance(right, list | tuple):
        return False
    if isinstance(left, list | tuple):
        # Twilio lets a list attribute stand on the left: `languages IN ['en', 'es']` means "any of them".
        return any(_member(item, right) for item in left)
    return _member(left, right)


def _not_in(left: object, right: object) -> bool:
    return _is_list(right) and not _in(left, right)


def _has(left: object, right: object) -> bool:
    if isinstance(left, list | tuple):
        return _member(right, left)
    if isinstance(left, str):
        return _same(left, right)
    return False


def _contains(left: object, right: object) -> bool:
    if isinstance(left, str):
        return isinstance(right, str) and right in left
    if isinstance(left, list | tuple):
        return _member(right, left)
    return False


# ----------------------------------------------------------------------------------------------------- tree


class Operator(Enum):
    """A comparison operator; the value is its canonical spelling."""

    EQUALS = "=="
    NOT_EQUALS = "!="
    LESS = "<"
    GREATER = ">"
    LESS_OR_EQUAL = "<="
    GREATER_OR_EQUAL = ">="
    IN = "IN"
    NOT_IN = "NOT IN"
    HAS = "HAS"
    CONTAINS = "CONTAINS"


_TESTS: Final[Mapping[Operator, Callable[[object, object], bool]]] = {
    Operator.EQUALS: _equals,
    Operator.NOT_EQUALS: _not_equals,
    Operator.LESS: _less,
    Operator.GREATER: _greater,
    Operator.LESS_OR_EQUAL: _less_or_equal,
    Operator.GREATER_OR_EQUAL: _greater_or_equal,
    Operator.IN: _in,
    Operator.NOT_IN: _not_in,
    Operator.HAS: _has,
    Operator.CONTAINS: _contains,
}


class Operand(ABC):
    """One side of a comparison: a literal, a list literal or an attribute path."""

    __slots__ = ()

    @abstractmethod
    def value(self, resolve: Resolver) -> object: ...

    @abstractmethod
    def to_text(self) -> str: ...

    def __str__(self) -> str:
        return self.to_text()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar_text(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    return repr(value)


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Operand):
    """A constant: string, integer, float, true/false or null."""

    constant: Scalar

    def __post_init__(self) -> None:
        if not isinstance(self.constant, str | int | float | bool | type(None)):
            raise TypeError(f"Not a literal value: {self.constant!r}")
        if isinstance(self.constant, float) and not math.isfinite(self.constant):
            raise ValueError(f"Literal numbers must be finite, not {self.constant!r}")

    def value(self, resolve: Resolver) -> object:
        return self.constant

    def to_text(self) -> str:
        return _scalar_text(self.constant)

    # Structural equality must tell `true` from `1`, and `1` from `1.0`, or a round trip could change types unseen.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Literal) and type(self.constant) is type(other.constant) and self.constant == other.constant

    def __hash__(self) -> int:
        return hash((type(self.constant), self.constant))


@dataclass(frozen=True, slots=True)
class ListLiteral(Operand):
    """A constant list such as `["en", "es"]`."""

    items: tuple[Literal, ...]
    _values: tuple[Scalar, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once so evaluation hands out the same tuple instead of rebuilding it per call.
        object.__setattr__(self, "_values", tuple(item.constant for item in self.items))

    def value(self, resolve: Resolver) -> object:
        return self._values

    def to_text(self) -> str:
        return "[" + ", ".join(item.to_text() for item in self.items) + "]"


@dataclass(frozen=True, slots=True)
class Attribute(Operand):
    """A dotted attribute path such as `customer.tier` or `worker.languages`."""

    path: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.path or not _FIRST_SEGMENT.fullmatch(self.path[0]):
            raise ValueError(f"Invalid attribute path: {self.path!r}")
        if not all(_SEGMENT.fullmatch(part) for part in self.path[1:]):
            raise ValueError(f"Invalid attribute path: {self.path!r}")
        if len(self.path) == 1 and _keyword(self.path[0]):
            # It would print as a keyword and read back as something else.
            raise ValueError(f"Attribute name {self.path[0]!r} is a reserved word")

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def value(self, resolve: Resolver) -> object:
        return resolve(self.path)

    def to_text(self) -> str:
        return self.name


class Expression(ABC):
    """A parsed boolean expression; immutable, so parse it once and evaluate it as often as needed."""

    __slots__ = ()
    precedence: ClassVar[int]

    @abstractmethod
    def evaluate(self, resolve: Resolver) -> bool:
        """True when the expression holds for the attribute values `resolve` supplies."""

    @abstractmethod
    def to_text(self) -> str:
        """Canonical text: keywords upper-case, strings double-quoted, only the parentheses structure needs."""

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, slots=True)
class Comparison(Expression):
    """`left OPERATOR right`; false whenever either side is missing."""

    operator: Operator
    left: Operand
    right: Operand
    precedence: ClassVar[int] = 3

    def evaluate(self, resolve: Resolver) -> bool:
        left = self.left.value(resolve)
        if left is MISSING:
            return False
        right = self.right.value(resolve)
        if right is MISSING:
            return False
        return _TESTS[self.operator](left, right)

    def to_text(self) -> str:
        return f"{self.left.to_text()} {self.operator.value} {self.right.to_text()}"


def _operand_text(operand: Expression, parent: Expression, *, right: bool) -> str:
    # Both connectives group to the left, so an equal-precedence right operand needs parentheses to keep its shape.
    needs_parentheses = operand.precedence < parent.precedence or (right and operand.precedence == parent.precedence)
    text = operand.to_text()
    return f"({text})" if needs_parentheses else text


@dataclass(frozen=True, slots=True)
class And(Expression):
    """Both sides hold (`AND` / `&&`)."""

    left: Expression
    right: Expression
    precedence: ClassVar[int] = 2

    def evaluate(self, resolve: Resolver) -> bool:
        return self.left.evaluate(resolve) and self.right.evaluate(resolve)

    def to_text(self) -> str:
        return f"{_operand_text(self.left, self, right=False)} AND {_operand_text(self.right, self, right=True)}"


@dataclass(frozen=True, slots=True)
class Or(Expression):
    """Either side holds (`OR` / `||`)."""

    left: Expression
    right: Expression
    precedence: ClassVar[int] = 1

    def evaluate(self, resolve: Resolver) -> bool:
        return self.left.evaluate(resolve) or self.right.evaluate(resolve)

    def to_text(self) -> str:
        return f"{_operand_text(self.left, self, right=False)} OR {_operand_text(self.right, self, right=True)}"


# ---------------------------------------------------------------------------------------------------- lexer


class _Kind(Enum):
    STRING = auto()
    NUMBER = auto()
    WORD = auto()
    TRUE = auto()
    FALSE = auto()
    NULL = auto()
    AND = auto()
    OR = auto()
    NOT = auto()
    IN = auto()
    HAS = auto()
    CONTAINS = auto()
    EQUALS = auto()
    NOT_EQUALS = auto()
    LESS = auto()
    GREATER = auto()
    LESS_OR_EQUAL = auto()
    GREATER_OR_EQUAL = auto()
    OPEN_PAREN = auto()
    CLOSE_PAREN = auto()
    OPEN_BRACKET = auto()
    CLOSE_BRACKET = auto()
    COMMA = auto()
    END = auto()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    position: int
    constant: Scalar = None

    def describe(self) -> str:
        return "end of expression" if self.kind is _Kind.END else f"token {self.text!r}"


_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORD: Final = re.compile(r"[^\W\d]\w*(?:\.\w+)*")
_HYPHENATED: Final = re.compile(r"[\w.-]+")
_WORD_KINDS: Final = {
    "AND": _Kind.AND,
    "OR": _Kind.OR,
    "NOT": _Kind.NOT,
    "IN": _Kind.IN,
    "HAS": _Kind.HAS,
    "CONTAINS": _Kind.CONTAINS,
    "TRUE": _Kind.TRUE,
    "FALSE": _Kind.FALSE,
    "NULL": _Kind.NULL,
}
# Longest spellings first so `<=` is not read as `<` followed by `=`.
_SYMBOLS: Final = (
    ("==", _Kind.EQUALS),
    ("!=", _Kind.NOT_EQUALS),
    ("<=", _Kind.LESS_OR_EQUAL),
    (">=", _Kind.GREATER_OR_EQUAL),
    ("&&", _Kind.AND),
    ("||", _Kind.OR),
    ("=", _Kind.EQUALS),
    ("<", _Kind.LESS),
    (">", _Kind.GREATER),
    ("(", _Kind.OPEN_PAREN),
    (")", _Kind.CLOSE_PAREN),
    ("[", _Kind.OPEN_BRACKET),
    ("]", _Kind.CLOSE_BRACKET),
    (",", _Kind.COMMA),
)
_ESCAPABLE: Final = frozenset({"\\", '"', "'"})


def _fault(problem: str, position: int, hint: str | None = None) -> ExpressionError:
    message = f"{problem} at position {position}"
    return ExpressionError(f"{message}; {hint}" if hint else message, position)


def _read_string(text: str, start: int) -> tuple[_Token, int]:
    quote = text[start]
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            return _Token(_Kind.STRING, text[start : index + 1], start, "".join(chars)), index + 1
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _ESCAPABLE:
            chars.append(text[index + 1])
            index += 2
            continue
        # Any other backslash is kept as written, so patterns like "a\d" survive without double escaping.
        chars.append(char)
        index += 1
    raise _fault("Unterminated string starting", start)


def _read_number(text: str, start: int) -> tuple[_Token, int] | None:
    match = _NUMBER.match(text, start)
    if match is None:
        return None
    end = match.end()
    if end < len(text) and (text[end] == "." or text[end].isalnum() or text[end] == "_"):
        raise _fault(f"Malformed number {text[start : end + 1]!r}", start)
    spelled = match.group()
    constant: int | float
    if any(mark in spelled for mark in ".eE"):
        constant = float(spelled)
        if not math.isfinite(constant):
            raise _fault(f"Number {spelled!r} is out of range", start)
    else:
        constant = int(spelled)
    return _Token(_Kind.NUMBER, spelled, start, constant), end


def _read_word(text: str, start: int) -> tuple[_Token, int] | None:
    match = _WORD.match(text, start)
    if match is None:
        return None
    end = match.end()
    word = match.group()
    if end < len(text) and text[end] == "-":
        key = _HYPHENATED.match(text, start)
        assert key is not None  # the word alone already matched
        raise _fault(f"Hyphen in attribute name {key.group()!r}", end, "hyphens are not allowed in keys")
    if end < len(text) and text[end] == ".":
        raise _fault(f"Malformed attribute name {text[start : end + 1]!r}", end)
    kind = _WORD_KINDS[word.upper()] if _keyword(word) else _Kind.WORD
    constant: Scalar = {_Kind.TRUE: True, _Kind.FALSE: False}.get(kind)
    return _Token(kind, word, start, constant), end


def _tokens(text: str) -> Iterator[_Token]:
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in "\"'":
            token, index = _read_string(text, index)
            yield token
            continue
        read = _read_number(text, index) or _read_word(text, index)
        if read is not None:
            token, index = read
            yield token
            continue
        for spelling, kind in _SYMBOLS:
            if text.startswith(spelling, index):
                yield _Token(kind, spelling, index)
                index += len(spelling)
                break
        else:
            hint = {"!": "did you mean '!='?", "&": "did you mean '&&'?", "|": "did you mean '||'?"}.get(char)
            if char == "-":
                hint = "hyphens are not allowed in keys"
            raise _fault(f"Unexpected character {char!r}", index, hint)
    yield _Token(_Kind.END, "", len(text))


# --------------------------------------------------------------------------------------------------- parser


_COMPARISON_KINDS: Final = {
    _Kind.EQUALS: Operator.EQUALS,
    _Kind.NOT_EQUALS: Operator.NOT_EQUALS,
    _Kind.LESS: Operator.LESS,
    _Kind.GREATER: Operator.GREATER,
    _Kind.LESS_OR_EQUAL: Operator.LESS_OR_EQUAL,
    _Kind.GREATER_OR_EQUAL: Operator.GREATER_OR_EQUAL,
    _Kind.IN: Operator.IN,
    _Kind.HAS: Operator.HAS,
    _Kind.CONTAINS: Operator.CONTAINS,
}
_LITERAL_KINDS: Final = frozenset({_Kind.STRING, _Kind.NUMBER, _Kind.TRUE, _Kind.FALSE, _Kind.NULL})


class _Parser:
    """Recursive descent over: or := and (OR and)*; and := test (AND test)*; test := '(' or ')' | operand op operand."""

    def __init__(self, text: str) -> None:
        self._tokens = list(_tokens(text))
        self._index = 0

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _take(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind is not _Kind.END:
            self._index += 1
        return token

    def expression(self) -> Expression:
        expression = self._disjunction()
        token = self._peek()
        if token.kind is _Kind.CLOSE_PAREN:
            raise _fault("Unexpected token ')'", token.position, "no '(' to close")
        if token.kind is not _Kind.END:
            raise _fault(f"Unexpected {token.describe()}", token.position, "expected AND, OR or end of expression")
        return expression

    def _disjunction(self) -> Expression:
        expression = self._conjunction()
        while self._peek().kind is _Kind.OR:
            self._take()
            expression = Or(expression, self._conjunction())
        return expression

    def _conjunction(self) -> Expression:
        expression = self._test()
        while self._peek().kind is _Kind.AND:
            self._take()
            expression = And(expression, self._test())
        return expression

    def _test(self) -> Expression:
        token = self._peek()
        if token.kind is _Kind.OPEN_PAREN:
            self._take()
            expression = self._disjunction()
            closing = self._peek()
            if closing.kind is _Kind.END:
                raise _fault("Unclosed '('", token.position, "expected ')' before the end of the expression")
            if closing.kind is not _Kind.CLOSE_PAREN:
                raise _fault(f"Unexpected {closing.describe()}", closing.position, "expected AND, OR or ')'")
            self._take()
            return expression
        left = self._operand("a comparison")
        return Comparison(self._operator(left), left, self._operand("a value"))

    def _operator(self, left: Operand) -> Operator:
        token = self._take()
        if token.kind is _Kind.NOT:
            following = self._take()
            if following.kind is not _Kind.IN:
                raise _fault(f"Unexpected {following.describe()}", following.position, "expected IN after NOT")
            return Operator.NOT_IN
        operator = _COMPARISON_KINDS.get(token.kind)
        if operator is None:
            raise _fault(f"Unexpected {token.describe()}", token.position, f"expected a comparison operator after '{left}'")
        return operator

    def _operand(self, wanted: str) -> Operand:
        token = self._take()
        if token.kind is _Kind.WORD:
            return Attribute(tuple(token.text.split(".")))
        if token.kind in _LITERAL_KINDS:
            return Literal(token.constant)
        if token.kind is _Kind.OPEN_BRACKET:
            return self._list(token)
        raise _fault(f"Unexpected {token.describe()}", token.position, f"expected {wanted}")

    def _list(self, opening: _Token) -> ListLiteral:
        items: list[Literal] = []
        if self._peek().kind is _Kind.CLOSE_BRACKET:
            self._take()
            return ListLiteral(())
        while True:
            token = self._take()
            if token.kind is _Kind.END:
                raise _fault("Unclosed '['", opening.position, "expected ']' before the end of the expression")
            if token.kind not in _LITERAL_KINDS:
                raise _fault(f"Unexpected {token.describe()}", token.position, "expected a literal value in the list")
            items.append(Literal(token.constant))
            separator = self._take()
            if separator.kind is _Kind.CLOSE_BRACKET:
                return ListLiteral(tuple(items))
            if separator.kind is _Kind.END:
                raise _fault("Unclosed '['", opening.position, "expected ']' before the end of the expression")
            if separator.kind is not _Kind.COMMA:
                raise _fault(f"Unexpected {separator.describe()}", separator.position, "expected ',' or ']'")


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse expression text; raises ExpressionError naming the offending position. Results are cached."""
    if not text.strip():
        raise _fault("Expression is empty", 0)
    return _Parser(text).expression()


# -------------------------------------------------------------------------------------------------- helpers


def resolver_for(attributes: Mapping[str, object]) -> Resolver:
    """A resolver walking nested mappings by dotted path; anything that is not there resolves to MISSING."""

    def resolve(path: tuple[str, ...]) -> object:
        current: object = attributes
        for part in path:
            if not isinstance(current, Mapping):
                return MISSING
            current = current.get(part, MISSING)
            if current is MISSING:
                return MISSING
        return current

    return resolve


def evaluate(expression: Expression | str, attributes: Mapping[str, object]) -> bool:
    """True when the expression holds for `attributes`.

    Paths resolve through nested mappings, so the same call serves both scopes TaskRouter uses:
    - a plain attribute dict, for bare keys (TaskQueue `target_workers` against worker attributes, workflow
      filter expressions against task attributes);
    - a scope from `scope_for(worker=..., task=...)`, for workflow target expressions that say `worker.x` / `task.y`.
    Text is parsed through the cache; hot paths should keep the parsed Expression and call `.evaluate` themselves.
    """
    parsed = parse(expression) if isinstance(expression, str) else expression
    return parsed.evaluate(resolver_for(attributes))


matches = evaluate
"""Alias of `evaluate`, reading better in conditions: `if matches(queue.target_workers, worker.attributes)`."""


def scope_for(
    *, worker: Mapping[str, object] | None = None, task: Mapping[str, object] | None = None
) -> dict[str, Mapping[str, object]]:
    """The scope of a workflow target expression: `worker.*` and `task.*` roots; an omitted root resolves to nothing."""
    scope: dict[str, Mapping[str, object]] = {}
    if worker is not None:
        scope["worker"] = worker
    if task is not None:
        scope["task"] = task
    return scope


def references(expression: Expression) -> set[str]:
    """The dotted attribute paths the expression reads, e.g. {"worker.languages", "task.language"}."""
    found: set[str] = set()
    pending: list[Expression] = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, And | Or):
            pending += (node.left, node.right)
        elif isinstance(node, Comparison):
            found.update(side.name for side in (node.left, node.right) if isinstance(side, Attribute))
    return found


def _nothing(path: tuple[str, ...]) -> object:
    return MISSING


def is_match_all(expression: Expression) -> bool:
    """True when the expression holds whatever the attributes, like the catch-all `1==1`."""
    if isinstance(expression, Or):
        return is_match_all(expression.left) or is_match_all(expression.right)
    if isinstance(expression, And):
        return is_match_all(expression.left) and is_match_all(expression.right)
    return not references(expression) and expression.evaluate(_nothing)
