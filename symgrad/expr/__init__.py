"""Expressions: the safe parser (text or SymPy in, checked SymPy out) and symbolic derivatives.

The grammar's vocabulary and cost model, the tokenizer and precedence parser, and the
symbolic differentiation with its caps.  Nothing here executes user text.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.expr._domain import parse_domain
from symgrad.expr._grammar import (
    CONSTANTS,
    FUNCTIONS,
    MAX_ARITY,
    MAX_CONST_BITS,
    MAX_DECIMAL_EXPONENT,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LEN,
    MAX_MINMAX_COST,
    MAX_NAME_LEN,
    MAX_NODES,
    MAX_NONSMOOTH,
    FunctionSpec,
)
from symgrad.expr._parse import (
    free_variables,
    parse,
    parse_number,
    parse_point,
    parse_variables,
    symbol,
    validate_name,
)
from symgrad.expr._symbolic import (
    MAX_DERIVATIVE_NODES,
    MAX_ORDER,
    MAX_VARIABLES,
    Source,
    VariablesSpec,
    count_nodes,
    differentiate,
    gradient_exprs,
    hessian_exprs,
    jacobian_exprs,
    laplacian_expr,
    resolve,
)

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_ARITY",
    "MAX_CONST_BITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DEPTH",
    "MAX_DERIVATIVE_NODES",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LEN",
    "MAX_MINMAX_COST",
    "MAX_NAME_LEN",
    "MAX_NODES",
    "MAX_NONSMOOTH",
    "MAX_ORDER",
    "MAX_VARIABLES",
    "FunctionSpec",
    "Source",
    "VariablesSpec",
    "count_nodes",
    "differentiate",
    "free_variables",
    "gradient_exprs",
    "hessian_exprs",
    "jacobian_exprs",
    "laplacian_expr",
    "parse",
    "parse_domain",
    "parse_number",
    "parse_point",
    "parse_variables",
    "resolve",
    "symbol",
    "validate_name",
]
