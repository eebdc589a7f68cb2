#!/usr/bin/python3
"""Parse command lines with certbot's own parser and print what it made of them.

Run with Debian's certbot (/usr/bin/python3, certbot 2.1 and its plugins):

    certbot_oracle.py dump          one JSON object per parser action, in registration order
    certbot_oracle.py parse < cases one JSON line per case; a case is a JSON list of argv words,
                                    or {"argv": [...], "ini": "..."} to read that text as the
                                    one default cli.ini (ConfigArgParse's default_config_files)

For each case the output holds the verb, the help topic certbot chose, the exit
status (0 for help/version, 2 for argparse usage errors, 1 for certbot errors),
the error text, and the namespace values that differ from the parser's defaults.
No file is read or written but a case's cli.ini (in a temporary directory):
the default cli.ini files are turned off, and nothing but the parser runs.
"""
import argparse
import contextlib
import copy
import io
import json
import os
import sys
import tempfile

from certbot._internal import constants

constants.CLI_DEFAULTS["config_files"] = []

from certbot._internal import cli  # noqa: E402
from certbot._internal.cli import helpful as helpful_mod  # noqa: E402
from certbot._internal.plugins import disco  # noqa: E402
from certbot._internal.plugins import selection  # noqa: E402

PLUGINS = disco.PluginsRegistry.find_all()

_last = {}
_orig_init = helpful_mod.HelpfulArgumentParser.__init__


def _init(self, args, plugins, *rest, **kw):
    _last.clear()
    _last["self"] = self
    try:
        _orig_init(self, args, plugins, *rest, **kw)
    finally:
        _last["help_arg"] = getattr(self, "help_arg", None)
        _last["verb"] = getattr(self, "verb", None)


helpful_mod.HelpfulArgumentParser.__init__ = _init

_topics = {}
_orig_add = helpful_mod.HelpfulArgumentParser.add


def _add(self, topics, *args, **kw):
    for a in args:
        _topics[a] = topics if isinstance(topics, list) else [topics]
    return _orig_add(self, topics, *args, **kw)


helpful_mod.HelpfulArgumentParser.add = _add
_orig_parse = helpful_mod.HelpfulArgumentParser.parse_args


def _parse(self):
    """Keep argparse's namespace before certbot's post-parsing homework."""
    inner = self.parser.parse_args

    def grab(args):
        # argparse stores list defaults by reference and certbot's actions
        # append to them: keep a copy of every default before parsing.
        defaults = {}
        for a in self.parser._actions:
            defaults.setdefault(a.dest, copy.deepcopy(a.default))
        _last["defaults"] = defaults
        ns = inner(args)
        _last["raw"] = copy.deepcopy(vars(ns))
        return ns

    self.parser.parse_args = grab
    return _orig_parse(self)


helpful_mod.HelpfulArgumentParser.parse_args = _parse


def jsonable(v):
    if isinstance(v, type):
        return v.__name__
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return repr(v)


def action_kind(a):
    return type(a).__name__


def dump():
    parser = _build(["-h", "all"])
    for a in parser._actions:
        if not a.option_strings:
            continue
        print(json.dumps({
            "options": a.option_strings,
            "dest": a.dest,
            "action": action_kind(a),
            "nargs": a.nargs,
            "const": jsonable(a.const),
            "default": jsonable(a.default),
            "type": getattr(a.type, "__name__", None) if a.type else None,
            "choices": jsonable(list(a.choices)) if a.choices is not None else None,
            "hidden": a.help == argparse.SUPPRESS,
            "topics": _topics.get(a.option_strings[0]) if a.option_strings else None,
        }))
    print(json.dumps({"plugins": sorted(PLUGINS), "help_topics": _last["self"].help_topics[:-1],
                      "verbs": list(_last["self"].VERBS)}))


def _build(args):  # noqa: C901
    """The configured argparse parser (without parsing)."""
    captured = {}
    orig = helpful_mod.HelpfulArgumentParser.parse_args

    class Stop(Exception):
        pass

    def grab(self):
        captured["parser"] = self.parser
        raise Stop()

    helpful_mod.HelpfulArgumentParser.parse_args = grab
    try:
        cli.prepare_and_parse_args(PLUGINS, list(args))
    except Stop:
        pass
    finally:
        helpful_mod.HelpfulArgumentParser.parse_args = orig
    return captured["parser"]


def parse_one(argv):
    out, err = io.StringIO(), io.StringIO()
    res = {"argv": argv}
    ns = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            ns = cli.prepare_and_parse_args(PLUGINS, list(argv))
        res["exit"] = None
    except SystemExit as e:
        res["exit"] = e.code if isinstance(e.code, int) else 1
    except Exception as e:  # certbot errors raised while parsing
        res["exit"] = 1
        res["exception"] = type(e).__name__
        res["error"] = str(e)
    res["verb"] = _last.get("verb")
    ha = _last.get("help_arg")
    res["help_arg"] = ha if isinstance(ha, (str, bool)) else None
    e = err.getvalue()
    if e:
        lines = e.strip().splitlines()
        res["error"] = lines[-1]
    o = out.getvalue()
    if o:
        res["stdout_first"] = o.strip().splitlines()[0]
    raw = _last.get("raw")
    if ns is not None:
        res["verb"] = ns.verb
        try:
            res["plugins"] = list(selection.cli_plugin_requests(ns))
        except Exception as e:  # PluginSelectionError
            res["plugins_error"] = str(e)
    if raw is not None:
        vals = {}
        for k, v in sorted(raw.items()):
            if k in ("func", "verb"):
                continue
            d = _last["defaults"].get(k)
            if v != d:
                vals[k] = jsonable(v)
        res["values"] = vals
    return res


def main():
    if sys.argv[1:] == ["dump"]:
        dump()
        return
    if sys.argv[1:] == ["parse"]:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            case = json.loads(line)
            if isinstance(case, dict):
                with tempfile.TemporaryDirectory() as d:
                    ini = os.path.join(d, "cli.ini")
                    with open(ini, "w") as f:
                        f.write(case["ini"])
                    constants.CLI_DEFAULTS["config_files"] = [ini]
                    try:
                        res = parse_one(case["argv"])
                    finally:
                        constants.CLI_DEFAULTS["config_files"] = []
            else:
                res = parse_one(case)
            print(json.dumps(res), flush=True)
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
