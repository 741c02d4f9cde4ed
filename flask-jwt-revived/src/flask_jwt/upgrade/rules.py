"""What breaks in the Python code of an app of Flask-JWT 0.3.2's time: Werkzeug 2.1 removed
``safe_str_cmp``, Flask 2.3 ``before_first_request`` and Flask 3.0 ``_request_ctx_stack``;
PyJWT 2 returns text from ``encode`` and needs ``algorithms`` in ``decode``; and a short
secret. Each rule gives its findings, with the edits of the ones it can fix. (The
requirements of a setup.py are read by ``requirements.install_requires``.)"""

import ast

from .python import Module
from .report import Edit, Finding
from .requirements import install_requires

NO_SAFE_STR_CMP = "safe_str_cmp is gone from Werkzeug 2.1"
HOOKS = {"before_first_request": "before_request",
         "before_app_first_request": "before_app_request"}
SECRET_NAMES = {"SECRET_KEY", "JWT_SECRET_KEY"}
SECRET_BYTES = 32  # below this PyJWT warns (InsecureKeyLengthWarning) for HS256


def safe_str_cmp(module: Module) -> list[Finding]:
    """Its imports dropped for ``import hmac``, its calls made ``hmac.compare_digest`` on
    the arguments' UTF-8 bytes, as the README's upgrade guide does."""
    findings, called = [], set()
    # Werkzeug's too where nothing else binds it (a shim of the app's own is no finding), so
    # that what --write leaves is still found once the import is gone.
    names = set() if binds_its_own(module, "safe_str_cmp") else {"safe_str_cmp"}
    for node in module.nodes:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("werkzeug"):
            gone = [alias for alias in node.names if alias.name == "safe_str_cmp"]
            names |= {alias.asname or alias.name for alias in gone}
            if gone:
                findings.append(Finding(node.lineno, NO_SAFE_STR_CMP, "import hmac in its place",
                                        (drop_names(module, node, gone),), ("hmac",)))
    for node in module.nodes:
        function = isinstance(node, ast.Call) and node.func
        if (isinstance(function, ast.Name) and function.id in names
                or isinstance(function, ast.Attribute) and function.attr == "safe_str_cmp"):
            called.add(function)
            findings.append(compare_digest(module, node))
    findings += [Finding(node.lineno, NO_SAFE_STR_CMP, "hmac.compare_digest on bytes")
                 for node in module.nodes if isinstance(node, ast.Name) and node.id in names
                 and isinstance(node.ctx, ast.Load) and node not in called]
    return findings


def binds_its_own(module: Module, name: str) -> bool:
    """Whether the module binds the name by a def, a class, an assignment, or an import from
    elsewhere than Werkzeug."""
    for node in module.nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found = node.name == name
        elif isinstance(node, ast.Name):
            found = node.id == name and isinstance(node.ctx, ast.Store)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found = not (getattr(node, "module", None) or "").startswith("werkzeug") and any(
                (alias.asname or alias.name) == name for alias in node.names)
        else:
            found = False
        if found:
            return True
    return False


def drop_names(module: Module, node: ast.ImportFrom, gone: list[ast.alias]) -> Edit:
    kept = [alias for alias in node.names if alias not in gone]
    if not kept:
        return module.remove_statement(node)
    names = ", ".join(module.segment(alias) for alias in kept)
    start, end = module.span(node)
    return Edit(start, end, f"from {'.' * node.level}{node.module or ''} import {names}")


def compare_digest(module: Module, call: ast.Call) -> Finding:
    arguments = call.args
    if len(arguments) != 2 or call.keywords or any(isinstance(argument, ast.Starred)
                                                   for argument in arguments):
        return Finding(call.lineno, NO_SAFE_STR_CMP, "hmac.compare_digest on bytes")
    new = f"hmac.compare_digest({as_bytes(module, arguments[0])}, " \
          f"{as_bytes(module, arguments[1])})"
    return Finding(call.lineno, NO_SAFE_STR_CMP, new, (Edit(*module.span(call), new),),
                   ("hmac",))


def as_bytes(module: Module, argument: ast.expr) -> str:
    """The argument's source, made bytes unless it is already (a bytes literal, or
    ``x.encode(...)``, as apps that fed safe_str_cmp bytes wrote)."""
    source = module.segment(argument)
    if (isinstance(argument, ast.Constant) and isinstance(argument.value, bytes)
            or isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute)
            and argument.func.attr == "encode"):
        return source
    if isinstance(argument, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)):
        return f"{source}.encode()"
    return f"({source}).encode()"


def first_request_hooks(module: Module) -> list[Finding]:
    """``@app.before_first_request`` made ``@app.before_request`` over ``@functools.cache``:
    the function runs at the first request, once, wherever the app's set-up (``db.init_app``)
    happened before it. The call form, and functions that take arguments, return a value
    or are coroutines (which caching would change), are left for by hand."""
    findings, decorators = [], set()
    for node in module.nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Attribute) and decorator.attr in HOOKS:
                    decorators.add(decorator)
                    findings.append(once_at_first_request(module, node, decorator))
    findings += [Finding(node.lineno, f"{node.attr} is gone from Flask 2.3",
                         f"a {HOOKS[node.attr]} hook that calls the function once")
                 for node in module.nodes if isinstance(node, ast.Attribute)
                 and node.attr in HOOKS and node not in decorators]
    return findings


def once_at_first_request(module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef,
                          decorator: ast.Attribute) -> Finding:
    hook = f"{module.segment(decorator.value)}.{HOOKS[decorator.attr]}"
    problem = f"@{module.segment(decorator)} is gone from Flask 2.3"
    arguments = function.args
    if (isinstance(function, ast.AsyncFunctionDef) or returns_a_value(function)
            or arguments.posonlyargs or arguments.args or arguments.vararg
            or arguments.kwonlyargs or arguments.kwarg):
        return Finding(decorator.lineno, problem,
                       f"a @{hook} hook that calls {function.name} once, at the first request")
    body = module.text.body(decorator.lineno)
    indent = body[:len(body) - len(body.lstrip())]
    after = module.text.line_start(decorator.end_lineno + 1)
    cache = (f"{indent}@functools.cache  # once: Flask 2.3 removed {decorator.attr}"
             f"{module.text.newline}")
    return Finding(decorator.lineno, problem,
                   f"@{hook} and @functools.cache: {function.name} runs once, at the first "
                   "request", (Edit(*module.span(decorator), hook), Edit(after, after, cache)),
                   ("functools",))


def returns_a_value(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a ``return`` of the function itself (not of one nested in it) gives a value."""
    found, pending = False, list(function.body)
    while pending and not found:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found = isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None)
        pending += ast.iter_child_nodes(node)
    return found


def pyjwt_calls(module: Module) -> list[Finding]:
    """``jwt.encode(...).decode(...)``: PyJWT 2 already returns text, so the ``.decode``
    goes. ``jwt.decode`` without ``algorithms``, which PyJWT 2 refuses: by hand, since which
    algorithm the tokens use is the app's to say."""
    findings = []
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if (isinstance(called, ast.Attribute) and called.attr == "decode"
                and isinstance(called.value, ast.Call)
                and module.calls_pyjwt(called.value, "encode")):
            start, end = module.span(called.value)[1], module.span(node)[1]
            removed = module.text.text[start:end]
            findings.append(Finding(node.lineno, "PyJWT 2's jwt.encode returns str, which has "
                                    "no .decode()", f"drop {removed.strip()}",
                                    (Edit(start, end, ""),)))
        elif (module.calls_pyjwt(node, "decode") and len(node.args) < 3
              and all(keyword.arg not in ("algorithms", None) for keyword in node.keywords)):
            findings.append(Finding(node.lineno, "PyJWT 2's jwt.decode refuses every token "
                                    "without algorithms=", "name the algorithm your tokens "
                                    "are signed with, e.g. algorithms=['HS256']"))
    return findings


def request_ctx_stack(module: Module) -> list[Finding]:
    return [Finding(node.lineno, "flask._request_ctx_stack is gone from Flask 3.0",
                    "flask_jwt.current_identity for the identity, flask.g for your own")
            for node in module.nodes if isinstance(node, ast.ImportFrom)
            and node.module == "flask"
            and any(alias.name == "_request_ctx_stack" for alias in node.names)]


def short_secrets(module: Module) -> list[Finding]:
    """A secret written in the code shorter than 32 bytes: by hand, since a secret belongs
    in the deployment's environment, and a new one ends every token given out."""
    findings = []
    for value in secret_values(module):
        if isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes)):
            secret = value.value
            size = len(secret.encode(errors="surrogatepass") if isinstance(secret, str) else secret)
            if size < SECRET_BYTES:
                findings.append(Finding(value.lineno, f"a secret of {size} bytes signs the "
                                        f"tokens: PyJWT warns below {SECRET_BYTES}, and it can "
                                        "be guessed", "at least 32 random bytes, from the "
                                        "environment (e.g. secrets.token_hex(32))"))
    return findings


def secret_values(module: Module) -> list[ast.expr]:
    """What ``app.secret_key``, ``SECRET_KEY`` or ``JWT_SECRET_KEY`` is set to: assigned,
    given as a keyword, or in a dict literal."""
    values = []
    for node in module.nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values += [node.value] if any(names_a_secret(target) for target in targets) else []
        elif isinstance(node, ast.keyword) and node.arg in SECRET_NAMES:
            values.append(node.value)
        elif isinstance(node, ast.Dict):
            values += [value for key, value in zip(node.keys, node.values, strict=True)
                       if isinstance(key, ast.Constant) and key.value in SECRET_NAMES]
    return values


def names_a_secret(target: ast.expr) -> bool:
    if isinstance(target, ast.Attribute):
        return target.attr == "secret_key"
    if isinstance(target, ast.Subscript):
        return isinstance(target.slice, ast.Constant) and target.slice.value in SECRET_NAMES
    return isinstance(target, ast.Name) and target.id in SECRET_NAMES


RULES = (safe_str_cmp, first_request_hooks, pyjwt_calls, request_ctx_stack, short_secrets,
         install_requires)
