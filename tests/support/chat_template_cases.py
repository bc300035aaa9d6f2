#!/usr/bin/env python3
"""Writes tests/support/chat_template_cases.h: each template below rendered by Jinja2 (python3-jinja2)
with the environment transformers' apply_chat_template uses (ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loop controls, the generation tag, its tojson, raise_exception and
strftime_now). test_chat_template renders the same templates with ParamScope's renderer and compares.
Run from the repository root after changing a case: python3 tests/support/chat_template_cases.py"""
import datetime
import json
import pathlib
import subprocess
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = 1764770000  # what strftime_now formats, fixed so the output does not depend on the day


class AssistantTracker(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def render(source, context):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, "jinja2.ext.loopcontrols"])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def raise_exception(message):
        raise ValueError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda f: datetime.datetime.fromtimestamp(NOW).strftime(f)
    return env.from_string(source).render(**context)


CONTEXT = {"messages": [{"role": "system", "content": "Be brief."},{"role": "user", "content": "Hi \"you\""},{"role": "assistant", "content": "  Hello!\n"},{"role": "user", "content": "Tell me a joke."}],
       "add_generation_prompt": True, "bos_token": "<s>", "eos_token": "</s>",
       "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"city": "str", "n": 3, "f": 1.5, "ok": True, "x": None}}}]}

cases = [
 ("text and output", "Hello {{ bos_token }}{{ messages[1].role }}!"),
 ("trim_blocks and lstrip_blocks", "{% for m in messages %}\n    {% if m.role == 'user' %}\n  [{{ m.content }}]\n    {% endif %}\n{% endfor %}\n"),
 ("whitespace control", "a  {%- if true -%}  b  {%- endif -%}  c\n{{- ' d ' -}}\n e"),
 ("plus markers", "x\n    {%+ if true %}y{% endif +%}\nz"),
 ("comments", "a{# a comment #}b\n  {#- trimmed -#}\n  c"),
 ("loop variables", "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}"),
 ("loop previtem and cycle", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b') }} {% endfor %}"),
 ("for with filter and else", "{% for m in messages if m.role == 'user' %}{{ loop.index }}:{{ m.content }} {% endfor %}{% for x in [] %}x{% else %}empty{% endfor %}"),
 ("for unpacking dict items", "{% for k, v in tools[0].function.parameters.items() %}{{ k }}={{ v }},{% endfor %}"),
 ("break and continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
 ("scopes and namespace", "{% set a = 1 %}{% set ns = namespace(b=1) %}{% for x in [1, 2] %}{% set a = a + x %}{% set ns.b = ns.b + x %}{% endfor %}{{ a }} {{ ns.b }}"),
 ("set block", "{% set greeting %}Hi {{ messages[1].role }}{% endset %}[{{ greeting | upper }}]"),
 ("macros with defaults", "{% macro tag(name, close=false) %}<{{ '/' if close }}{{ name }}>{% endmacro %}{{ tag('a') }}{{ tag('a', close=true) }}{{ tag('b', true) }}"),
 ("if elif else", "{% for n in [0, 1, 2] %}{% if n == 0 %}zero{% elif n == 1 %}one{% else %}many{% endif %} {% endfor %}"),
 ("operators", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' ~ 1 }} {{ 'x' * 3 }} {{ [1] + [2] }} {{ 1.5 + 1 }}"),
 ("comparisons and logic", "{{ 1 < 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 'ell' in 'hello' }} {{ 3 not in [1, 2] }} {{ 'role' in messages[0] }} {{ not none }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ none is none }}"),
 ("ternary", "{{ 'yes' if messages | length > 3 else 'no' }}|{{ 'only' if false }}|"),
 ("string methods", "{{ '  hi  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('lo', 'x')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'abc'.upper() }}|{{ 'hello world'.title() }}|{{ '-'.join(['a', 'b']) }}|{{ 'x{}y{}'.format(1, 'z') }}|{{ 'hello'.find('l') }}"),
 ("slices and indices", "{{ messages[-1].content }}|{{ 'hello'[1:3] }}|{{ 'hello'[::-1] }}|{{ [1, 2, 3, 4][1:] }}|{{ [1, 2, 3][:-1] }}|{{ [1, 2, 3, 4, 5][::2] }}|{{ messages[::-1][0].role }}|{{ 'héllo'[1] }}|{{ [1][5] is defined }}"),
 ("filters", "{{ ' x ' | trim }}|{{ 'aBc' | lower }}|{{ 'abc' | upper }}|{{ 'abc' | capitalize }}|{{ messages | length }}|{{ 'héllo' | length }}|{{ missing | default('dflt') }}|{{ '' | default('e', true) }}|{{ [3, 1, 2] | sort }}|{{ [1, 2, 3] | reverse | list }}|{{ [1, 2, 1] | unique | list }}|{{ ['a', 'b'] | join(', ') }}|{{ messages | map(attribute='role') | join(' ') }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | list }}|{{ [1, 2, 3, 4] | select('even') | list }}|{{ '42' | int + 1 }}|{{ 3 | float }}|{{ -2 | abs }}|{{ [1, 2] | first }}{{ [1, 2] | last }}|{% for k, v in {'b': 1, 'a': 2} | dictsort %}{{ k }}{{ v }}{% endfor %}|{{ 'a b' | replace(' ', '_') }}|{{ 'a\nb' | indent(2) }}"),
 ("tojson", "{{ tools | tojson }}|{{ tools[0].function.parameters | tojson(indent=2) }}|{{ 'é\"\n' | tojson }}|{{ [1.0, 0.1, 1e20, 1e-7] | tojson }}"),
 ("printing values", "{{ none }} {{ true }} {{ 1.0 }} {{ 0.1 }} {{ 1e20 }} {{ [1, 'a', none, false] }} {{ {'k': 'it\\'s'} }} {{ undefined_name }}."),
 ("tests", "{{ messages is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.5 is float }} {{ 2 is integer }} {{ {} is mapping }} {{ [] is iterable }} {{ true is boolean }} {{ false is false }} {{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ 'a' is in 'abc' }} {{ 1 is sameas 1 }} {{ 'abc' is lower }} {{ 'a' is not string }}"),
 ("dict methods and literals", "{% set d = {'x': 1, 'y': [1, 2], 0: 'zero'} %}{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('x') }} {{ d.get('z', 'no') }} {{ d.get('z') }} {{ d[0] }} {{ d['y'][1] }} {{ 'x' in d }} {{ 0 in d }}"),
 ("string concatenation and filters bind tighter", "{{ 'A' + messages[2].content | trim + 'B' }}"),
 ("nested loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}"),
 ("raw block", "{% raw %}{{ not evaluated }}{% endraw %}!"),
 ("generation block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% endif %}{% endfor %}"),
 ("strftime_now", "{{ strftime_now('%Y') | length }}"),
 ("chatml", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"),
]


def raw(s):
    assert ")jinja\"" not in s
    return 'R"jinja(' + s + ')jinja"'


def main():
    lines = ["// Generated by tests/support/chat_template_cases.py from Jinja2 " + __import__("jinja2").__version__ + "; do not edit.",
             "#pragma once", "", "namespace ps::test {", "",
             "inline constexpr long kChatCaseNow = " + str(NOW) + ";", "",
             "inline constexpr const char* kChatCaseContext = " + raw(json.dumps(CONTEXT, ensure_ascii=False)) + ";", "",
             "struct ChatCase {", "    const char* name;", "    const char* source;", "    const char* expected;", "};", "",
             "inline constexpr ChatCase kChatCases[] = {"]
    for name, source in cases:
        lines.append("    {" + json.dumps(name) + ",")
        lines.append("     " + raw(source) + ",")
        lines.append("     " + raw(render(source, CONTEXT)) + "},")
    lines += ["};", "", "}  // namespace ps::test", ""]
    out = pathlib.Path(__file__).with_name("chat_template_cases.h")
    out.write_text("\n".join(lines), encoding="utf-8")
    subprocess.run(["clang-format", "-i", str(out)], check=True)  # as CI checks every file


if __name__ == "__main__":
    main()
