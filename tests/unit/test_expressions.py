"""TaskRouter expression language: parsing, printing, evaluation and error reporting."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.domain.expressions import (
    And,
    Attribute,
    Comparison,
    Expression,
    ExpressionError,
    ListLiteral,
    Literal,
    Operand,
    Operator,
    Or,
    evaluate,
    is_match_all,
    matches,
    parse,
    references,
    resolver_for,
    scope_for,
)

ATTRIBUTES: dict[str, Any] = {
    "name": "Alice",
    "tier": "gold",
    "age": 30,
    "score": 4.5,
    "count": 0,
    "vip": True,
    "muted": False,
    "nothing": None,
    "languages": ["en", "es"],
    "skills": ["support", "billing"],
    "levels": [1, 2.5],
    "empty": [],
    "customer": {"tier": "platinum", "region": {"code": "EU"}, "since": 2019},
    "time": "09:30",
}


def holds(text: str, attributes: dict[str, Any] | None = None) -> bool:
    return evaluate(parse(text), ATTRIBUTES if attributes is None else attributes)


# ----------------------------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # equality, both spellings
        ("tier == 'gold'", True),
        ('tier == "gold"', True),
        ("tier = 'gold'", True),
        ("tier == 'silver'", False),
        ("age == 30", True),
        ("age == 30.0", True),
        ("score == 4.5", True),
        ("age == 31", False),
        ("vip == true", True),
        ("vip == false", False),
        ("muted == false", True),
        ("nothing == null", True),
        ("tier == null", False),
        ("languages == ['en', 'es']", True),
        ("languages == ['es', 'en']", False),
        ("customer.tier == 'platinum'", True),
        ("customer.region.code == 'EU'", True),
        # inequality
        ("tier != 'silver'", True),
        ("tier != 'gold'", False),
        ("nothing != null", False),
        ("tier != null", True),
        ("age != '30'", True),
        # ordering, numbers and strings
        ("age > 29", True),
        ("age > 30", False),
        ("age >= 30", True),
        ("age >= 30.5", False),
        ("age < 30.5", True),
        ("age < 30", False),
        ("age <= 30", True),
        ("age <= 29.99", False),
        ("score > -1", True),
        ("count < -0.5", False),
        ("customer.since >= 2019", True),
        ("time >= '09:00'", True),
        ("time < '09:00'", False),
        ("name < 'Bob'", True),
        # IN / NOT IN
        ("tier IN ['gold', 'platinum']", True),
        ("tier IN ['silver']", False),
        ("tier IN []", False),
        ("age IN [29, 30]", True),
        ("age IN [30.0]", True),
        ("vip IN [1]", False),
        ("languages IN ['es', 'fr']", True),
        ("languages IN ['fr', 'de']", False),
        ("empty IN ['en']", False),
        ("'support' IN skills", True),
        ("'sales' IN skills", False),
        ("tier NOT IN ['silver', 'bronze']", True),
        ("tier NOT IN ['gold']", False),
        ("languages NOT IN ['fr']", True),
        ("languages NOT IN ['en']", False),
        ("empty NOT IN ['en']", True),
        # HAS
        ("skills HAS 'support'", True),
        ("skills HAS 'sales'", False),
        ("levels HAS 2.5", True),
        ("levels HAS 1.0", True),
        ("levels HAS true", False),
        ("tier HAS 'gold'", True),
        ("tier HAS 'go'", False),
        ("age HAS 30", False),
        # CONTAINS
        ("name CONTAINS 'lic'", True),
        ("name CONTAINS 'bob'", False),
        ("name CONTAINS ''", True),
        ("skills CONTAINS 'billing'", True),
        ("skills CONTAINS 'bill'", False),
        ("age CONTAINS 3", False),
        # logic and precedence: OR < AND < comparison
        ("tier == 'gold' AND age == 30", True),
        ("tier == 'gold' AND age == 31", False),
        ("tier == 'silver' OR age == 30", True),
        ("tier == 'silver' OR age == 31", False),
        ("tier == 'gold' && age == 30", True),
        ("tier == 'silver' || age == 30", True),
        ("tier == 'gold' OR age == 31 AND vip == false", True),
        ("(tier == 'gold' OR age == 31) AND vip == false", False),
        ("tier == 'silver' AND age == 30 OR vip == true", True),
        ("tier == 'silver' AND (age == 30 OR vip == true)", False),
        ("((tier == 'gold'))", True),
        # constant expressions
        ("1==1", True),
        ("1 == 1", True),
        ("1 == 2", False),
        ("'a' == 'a'", True),
        ("true == TRUE", True),
        ("null == null", True),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    assert holds(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "missing == 'x'",
        "missing != 'x'",
        "missing == null",
        "missing != null",
        "missing < 1",
        "missing >= 1",
        "missing IN ['x']",
        "missing NOT IN ['x']",
        "missing HAS 'x'",
        "missing CONTAINS 'x'",
        "'x' IN missing",
        "'x' NOT IN missing",
        "tier != missing",
        "customer.missing == 'x'",
        "customer.missing != 'x'",
        "tier.length == 4",
        "customer.region.code.more != 'x'",
    ],
)
def test_a_missing_attribute_never_matches(text: str) -> None:
    assert holds(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "tier < 5",
        "tier >= 5",
        "age > '29'",
        "age <= '30'",
        "vip > false",
        "vip == 1",
        "count == false",
        "age == '30'",
        "nothing < 1",
        "languages > 'a'",
        "customer > 1",
        "tier IN 'gold'",
        "tier NOT IN 'silver'",
        "tier HAS 3",
        "tier CONTAINS 3",
        "age CONTAINS '3'",
        "customer CONTAINS 'tier'",
        "customer HAS 'tier'",
    ],
)
def test_a_type_mismatch_is_false_and_never_raises(text: str) -> None:
    assert holds(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "tier in ['gold']",
        "tier In ['gold']",
        "tier not in ['silver']",
        "tier Not IN ['silver']",
        "skills has 'support'",
        "name contains 'lic'",
        "name Contains 'lic'",
        "vip == True",
        "vip == TRUE",
        "muted == FaLsE",
        "nothing == NULL",
        "tier == 'gold' and age == 30",
        "tier == 'x' or age == 30",
        "tier == 'x' Or age == 30",
    ],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    assert holds(text) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("worker.languages IN task.languages", True),
        ("worker.languages HAS task.language", True),
        ("worker.level >= task.min_level", True),
        ("worker.id IN task.preferred_agents", True),
        ("worker.contact_uri != task.ignoreWorkerContactUri", True),
        ("worker.id NOT IN task.excluded", True),
        ("worker.team == task.team", False),
        ("task.priority > 5 AND worker.level == 3", True),
        ("languages IN ['en']", False),
        ("worker.missing == task.missing", False),
    ],
)
def test_target_expressions_read_worker_and_task_scopes(text: str, expected: bool) -> None:
    scope = scope_for(
        worker={"id": "WK1", "languages": ["en", "de"], "level": 3, "team": "a", "contact_uri": "client:alice"},
        task={
            "language": "de",
            "languages": ["fr", "en"],
            "min_level": 2,
            "preferred_agents": ["WK1", "WK2"],
            "ignoreWorkerContactUri": None,
            "excluded": ["WK9"],
            "team": "b",
            "priority": 10,
        },
    )
    assert evaluate(parse(text), scope) is expected


def test_scope_for_leaves_out_roots_not_given() -> None:
    assert scope_for() == {}
    assert scope_for(task={"a": 1}) == {"task": {"a": 1}}
    assert evaluate("worker.a == 1 OR task.a == 1", scope_for(task={"a": 1})) is True
    assert evaluate("worker.a != 1", scope_for(task={"a": 1})) is False


def test_evaluate_takes_text_or_a_parsed_expression_and_matches_is_the_same_test() -> None:
    expression = parse("skills HAS 'support'")
    assert evaluate(expression, ATTRIBUTES) is True
    assert evaluate("skills HAS 'support'", ATTRIBUTES) is True
    assert matches("skills HAS 'sales'", ATTRIBUTES) is False


def test_a_resolver_can_supply_values_from_anywhere() -> None:
    seen: list[tuple[str, ...]] = []

    def resolve(path: tuple[str, ...]) -> object:
        seen.append(path)
        return {"taskrouter.dayOfWeek": "Mon"}.get(".".join(path))

    assert parse("taskrouter.dayOfWeek IN ['Mon', 'Tue']").evaluate(resolve) is True
    assert seen == [("taskrouter", "dayOfWeek")]


def test_the_resolver_reads_nested_mappings_only() -> None:
    resolve = resolver_for({"a": {"b": [1, {"c": 2}]}, "s": "text"})
    assert resolve(("a", "b")) == [1, {"c": 2}]
    assert evaluate("a.b.c == 2", {"a": {"b": [1, {"c": 2}]}}) is False
    assert evaluate("s.length == 4", {"s": "text"}) is False


def test_evaluation_short_circuits() -> None:
    calls: list[str] = []

    def resolve(path: tuple[str, ...]) -> object:
        calls.append(".".join(path))
        return 1

    assert parse("a == 1 OR b == 1").evaluate(resolve) is True
    assert parse("a == 2 AND b == 1").evaluate(resolve) is False
    assert calls == ["a", "a"]


# ------------------------------------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("text", "constant"),
    [
        ("'plain'", "plain"),
        ('"plain"', "plain"),
        (r"'it\'s'", "it's"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'kept\d'", "kept\\d"),
        ("'double \" inside single'", 'double " inside single'),
        ('"single \' inside double"', "single ' inside double"),
        ("''", ""),
        ("'ünïcödé ☎'", "ünïcödé ☎"),
        ("42", 42),
        ("-7", -7),
        ("0", 0),
        ("3.25", 3.25),
        ("-0.5", -0.5),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("true", True),
        ("FALSE", False),
        ("Null", None),
    ],
)
def test_literals(text: str, constant: object) -> None:
    expression = parse(f"x == {text}")
    assert isinstance(expression, Comparison)
    assert expression.right == Literal(constant)  # type: ignore[arg-type]
    assert type(expression.right.value(resolver_for({}))) is type(constant)


def test_list_literals() -> None:
    expression = parse("x IN [ 'a', 1, -2.5, true, null ]")
    assert isinstance(expression, Comparison)
    assert expression.right == ListLiteral((Literal("a"), Literal(1), Literal(-2.5), Literal(True), Literal(None)))
    assert parse("x IN []") == Comparison(Operator.IN, Attribute(("x",)), ListLiteral(()))


def test_literal_equality_tells_types_apart() -> None:
    assert Literal(1) != Literal(True)
    assert Literal(1) != Literal(1.0)
    assert Literal(0) != Literal(False)
    assert Literal("1") != Literal(1)
    assert Literal(1) == Literal(1)
    assert len({Literal(1), Literal(True), Literal(1.0)}) == 3


def test_nodes_reject_what_cannot_be_printed_back() -> None:
    with pytest.raises(ValueError):
        Literal(float("inf"))
    with pytest.raises(ValueError):
        Attribute(("and",))
    with pytest.raises(ValueError):
        Attribute(("customer-tier",))
    with pytest.raises(ValueError):
        Attribute(("1st",))
    with pytest.raises(ValueError):
        Attribute(())
    assert Attribute(("task", "in")).name == "task.in"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("skills", ("skills",)),
        ("customer.tier", ("customer", "tier")),
        ("worker.languages", ("worker", "languages")),
        ("task.priority", ("task", "priority")),
        ("_private.x_1", ("_private", "x_1")),
        ("task.in", ("task", "in")),
        ("a.b.c.d", ("a", "b", "c", "d")),
        ("andrew", ("andrew",)),
        ("inbox", ("inbox",)),
        ("\u0131n", ("\u0131n",)),  # dotless i upper-cases to "IN" but is no keyword
        ("ünï.straße", ("ünï", "straße")),
    ],
)
def test_attribute_paths(text: str, path: tuple[str, ...]) -> None:
    expression = parse(f"{text} == 1")
    assert isinstance(expression, Comparison)
    assert expression.left == Attribute(path)


# ------------------------------------------------------------------------------------------------ printing


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1==1", "1 == 1"),
        ("a = 'x'", 'a == "x"'),
        ("a in ['x',\"y\"]", 'a IN ["x", "y"]'),
        ("a not in [1,2.0]", "a NOT IN [1, 2.0]"),
        ("a has true", "a HAS true"),
        ("a contains 'it\\'s \"q\"'", 'a CONTAINS "it\'s \\"q\\""'),
        ("a == 1 && b == 2 || c == 3", "a == 1 AND b == 2 OR c == 3"),
        ("a == 1 and (b == 2 or c == 3)", "a == 1 AND (b == 2 OR c == 3)"),
        ("(a == 1 and b == 2) and c == 3", "a == 1 AND b == 2 AND c == 3"),
        ("a == 1 and (b == 2 and c == 3)", "a == 1 AND (b == 2 AND c == 3)"),
        ("(a == 1 or b == 2) or c == 3", "a == 1 OR b == 2 OR c == 3"),
        ("a == 1 or (b == 2 or c == 3)", "a == 1 OR (b == 2 OR c == 3)"),
        ("(((a == 1)))", "a == 1"),
        ("a >= -1.5E3", "a >= -1500.0"),
        ("a == NULL", "a == null"),
    ],
)
def test_printing_is_canonical_and_reads_back_the_same(text: str, canonical: str) -> None:
    expression = parse(text)
    assert str(expression) == canonical
    assert expression.to_text() == canonical
    assert parse(canonical) == expression


def test_parsing_builds_left_grouped_trees() -> None:
    a, b, c = (Comparison(Operator.EQUALS, Attribute((name,)), Literal(1)) for name in "abc")
    assert parse("a == 1 AND b == 1 AND c == 1") == And(And(a, b), c)
    assert parse("a == 1 OR b == 1 AND c == 1") == Or(a, And(b, c))
    assert parse("a == 1 AND b == 1 OR c == 1") == Or(And(a, b), c)


# ------------------------------------------------------------------------------------- references, match-all


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("1==1", set()),
        ("skills HAS 'support'", {"skills"}),
        ("worker.id IN task.preferred_agents", {"worker.id", "task.preferred_agents"}),
        ("(a == 1 OR b.c > 2) AND a != 3 AND 'x' IN d", {"a", "b.c", "d"}),
    ],
)
def test_references(text: str, paths: set[str]) -> None:
    assert references(parse(text)) == paths


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1==1", True),
        ("1 = 1", True),
        ("'a' != 'b'", True),
        ("1==1 OR a == 2", True),
        ("a == 2 OR (1==1 AND true == true)", True),
        ("1==2", False),
        ("1==1 AND a == 2", False),
        ("a == a", False),
        ("skills HAS 'x'", False),
    ],
)
def test_is_match_all(text: str, expected: bool) -> None:
    assert is_match_all(parse(text)) is expected


# -------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("   ", 0),
        ("(a == 1", 0),
        ("a == 1 AND (b == 2", 11),
        ("a == 1)", 6),
        ("(a == 1))", 8),
        ("()", 1),
        ("a ==", 4),
        ("== 1", 0),
        ("a == 1 AND", 10),
        ("a == 1 OR OR b == 2", 10),
        ("AND a == 1", 0),
        ("a == 'abc", 5),
        ('a == "abc\\"', 5),
        ("a == 1 # comment", 7),
        ("a == @b", 5),
        ("customer-tier == 'x'", 8),
        ("worker.first-name == 'x'", 12),
        ("a == -b", 5),
        ("a ! b", 2),
        ("a == 1 & b == 2", 7),
        ("a == 1 | b == 2", 7),
        ("a NOT 'x'", 6),
        ("a NOT", 5),
        ("a == [1, 2", 5),
        ("a == [1,]", 8),
        ("a == [1 2]", 8),
        ("a IN [b]", 6),
        ("a IN [[1]]", 6),
        ("a IN [(1)]", 6),
        ("a == 1 == 2", 7),
        ("a b", 2),
        ("a", 1),
        ("a == 1 b == 2", 7),
        ("a. == 1", 1),
        ("a..b == 1", 1),
        ("a == 1.", 5),
        ("a == 1abc", 5),
        ("a == 1.2.3", 5),
        ("a == 1e999", 5),
        ("a === 1", 4),
        ("a <> 1", 3),
        ("NOT a IN [1]", 0),
        ("a IN", 4),
        ("(a == 1) b", 9),
    ],
)
def test_errors_report_the_position(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert raised.value.position == position
    assert f"at position {position}" in str(raised.value)
    assert raised.value.message == str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a == 1)", "Unexpected token ')' at position 6"),
        ("", "Expression is empty at position 0"),
        ("a == 'abc", "Unterminated string starting at position 5"),
        ("(a == 1", "Unclosed '(' at position 0"),
        ("a ==", "Unexpected end of expression at position 4"),
        ("customer-tier == 1", "Hyphen in attribute name 'customer-tier' at position 8"),
        ("a == 1 # x", "Unexpected character '#' at position 7"),
    ],
)
def test_error_messages_read_well(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert str(raised.value).startswith(message)


def test_expression_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("a ==")


# ------------------------------------------------------------------------------------------------- property

FIRST_NAMES = ("a", "b", "tier", "skills", "worker", "task", "x_1", "ünï")
LATER_NAMES = ("a", "b", "tier", "in", "1st", "languages")
STRINGS = ("", "en", "es", "gold", "EN", "e", "go", 'q"uote', "it's", "back\\slash", "a\\d")

# Mostly a small shared pool, so generated literals and attribute values often meet and comparisons hold.
common_scalars = st.sampled_from([0, 1, 2, -1, 1.0, 2.5, -0.0, True, False, None, *STRINGS])
scalars = st.one_of(
    common_scalars,
    common_scalars,
    common_scalars,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
paths = st.tuples(st.sampled_from(FIRST_NAMES), st.lists(st.sampled_from(LATER_NAMES), max_size=2)).map(
    lambda parts: (parts[0], *parts[1])
)
literals = st.builds(Literal, scalars)
list_literals = st.lists(literals, max_size=4).map(lambda items: ListLiteral(tuple(items)))
operands: st.SearchStrategy[Operand] = st.one_of(st.builds(Attribute, paths), literals, list_literals)
comparisons = st.builds(Comparison, st.sampled_from(list(Operator)), operands, operands)
expressions: st.SearchStrategy[Expression] = st.recursive(
    comparisons,
    lambda children: st.one_of(st.builds(And, children, children), st.builds(Or, children, children)),
    max_leaves=8,
)
values = st.recursive(
    st.one_of(scalars, st.lists(scalars, max_size=4)),
    lambda children: st.fixed_dictionaries({}, optional=dict.fromkeys(LATER_NAMES, children)),
    max_leaves=10,
)
attribute_dicts = st.fixed_dictionaries({}, optional=dict.fromkeys(FIRST_NAMES, values))


ABSENT = object()


def _lookup(attributes: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = attributes
    for part in path:
        if type(node) is not dict or part not in node:
            return ABSENT
        node = node[part]
    return node


def _typed(value: Any) -> Any:
    """A value tagged with its JSON type, so Python's `True == 1` cannot blur types when comparing."""
    if value is None:
        return ("null",)
    if type(value) is bool:
        return ("bool", value)
    if type(value) in (int, float):
        return ("number", value)
    if type(value) is str:
        return ("string", value)
    if type(value) in (list, tuple):
        return ("list", tuple(_typed(item) for item in value))
    return ("object", tuple(sorted((key, _typed(item)) for key, item in value.items())))


def _reference_test(operator: Operator, left: Any, right: Any) -> bool:
    tl, tr = _typed(left), _typed(right)
    in_right = tr[0] == "list" and (any(item in tr[1] for item in tl[1]) if tl[0] == "list" else tl in tr[1])
    if operator is Operator.EQUALS:
        return tl == tr
    if operator is Operator.NOT_EQUALS:
        return tl != tr
    if operator in (Operator.LESS, Operator.GREATER, Operator.LESS_OR_EQUAL, Operator.GREATER_OR_EQUAL):
        if tl[0] != tr[0] or tl[0] not in ("number", "string"):
            return False
        a, b = tl[1], tr[1]
        return {
            Operator.LESS: a < b,
            Operator.GREATER: a > b,
            Operator.LESS_OR_EQUAL: a <= b,
            Operator.GREATER_OR_EQUAL: a >= b,
        }[operator]
    if operator is Operator.IN:
        return in_right
    if operator is Operator.NOT_IN:
        return tr[0] == "list" and not in_right
    if operator is Operator.HAS:
        return (tl[0] == "list" and tr in tl[1]) or (tl[0] == "string" and tl == tr)
    assert operator is Operator.CONTAINS
    if tl[0] == "string":
        return tr[0] == "string" and tr[1] in tl[1]
    return tl[0] == "list" and tr in tl[1]


def _reference_operand(operand: Operand, attributes: dict[str, Any]) -> Any:
    if isinstance(operand, Attribute):
        return _lookup(attributes, operand.path)
    if isinstance(operand, ListLiteral):
        return [item.constant for item in operand.items]
    assert isinstance(operand, Literal)
    return operand.constant


def reference_evaluate(expression: Expression, attributes: dict[str, Any]) -> bool:
    if isinstance(expression, And):
        return reference_evaluate(expression.left, attributes) and reference_evaluate(expression.right, attributes)
    if isinstance(expression, Or):
        return reference_evaluate(expression.left, attributes) or reference_evaluate(expression.right, attributes)
    assert isinstance(expression, Comparison)
    left = _reference_operand(expression.left, attributes)
    right = _reference_operand(expression.right, attributes)
    if left is ABSENT or right is ABSENT:
        return False
    return _reference_test(expression.operator, left, right)


def _paths_in(expression: Expression) -> set[str]:
    if isinstance(expression, And | Or):
        return _paths_in(expression.left) | _paths_in(expression.right)
    assert isinstance(expression, Comparison)
    return {".".join(side.path) for side in (expression.left, expression.right) if isinstance(side, Attribute)}


@settings(max_examples=400)
@given(expressions)
def test_printing_then_parsing_gives_back_the_same_tree(expression: Expression) -> None:
    text = str(expression)
    reparsed = parse(text)
    assert reparsed == expression
    assert str(reparsed) == text


def _place(attributes: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = attributes
    for part in path[:-1]:
        if type(node.get(part)) is not dict:
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


@settings(max_examples=600)
@given(expressions, attribute_dicts, st.data())
def test_evaluation_agrees_with_a_reference_evaluator(
    expression: Expression, attributes: dict[str, Any], data: st.DataObject
) -> None:
    # Random dicts rarely hold the paths an expression reads, so most read paths are given values on purpose.
    for path in sorted(_paths_in(expression)):
        if data.draw(st.integers(0, 4)):
            _place(attributes, tuple(path.split(".")), data.draw(st.one_of(scalars, st.lists(scalars, max_size=4))))
    expected = reference_evaluate(expression, attributes)
    assert parse(str(expression)).evaluate(resolver_for(attributes)) is expected
    assert evaluate(expression, attributes) is expected


@given(expressions)
def test_references_lists_every_attribute_path(expression: Expression) -> None:
    assert references(expression) == _paths_in(expression)


@settings(max_examples=400)
@given(st.text(alphabet="ab.-_1 '\"\\[](),=!<>&|eE", max_size=20) | st.text(max_size=20))
def test_any_text_parses_or_fails_with_a_position_inside_it(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        assert f"at position {error.position}" in str(error)
    else:
        assert parse(str(expression)) == expression


plain_values = st.one_of(scalars, st.lists(scalars, max_size=4))


@settings(max_examples=600)
@given(st.sampled_from(list(Operator)), plain_values, plain_values)
def test_every_operator_agrees_with_the_reference_on_any_pair_of_values(operator: Operator, left: Any, right: Any) -> None:
    expression = Comparison(operator, Attribute(("left",)), Attribute(("right",)))
    assert evaluate(expression, {"left": left, "right": right}) is _reference_test(operator, left, right)
