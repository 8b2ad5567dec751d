#!/usr/bin/env python3
"""Writes Tests/ShiftAddChatTemplateTests/Golden/templates.json: chat templates rendered by jinja2
configured the way Hugging Face transformers configures it, for the Swift renderer to match exactly.

Usage: python3 Scripts/make_template_golden.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
The model defaults to ${SHIFTADD_MODEL_DIR:-~/.cache/shiftadd/models}/SmolLM2-135M-Instruct.Q4_1.gguf.
"""
import json
import os
import sys

import jinja2
from gguf import GGUFReader
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "Tests", "ShiftAddChatTemplateTests", "Golden", "templates.json")


def make_environment():
    """jinja2 as transformers' chat template code sets it up."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def smollm2_template(path):
    reader = GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def msg(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = {
    "single_user": [msg("user", "Hello!")],
    "system_user": [msg("system", "You are a pirate."), msg("user", "Where is the treasure?")],
    "full": [
        msg("system", "Answer briefly."),
        msg("user", "What is 2+2?"),
        msg("assistant", "4"),
        msg("user", "And 3+3?"),
    ],
    "thinking": [
        msg("user", "Think first."),
        msg("assistant", "<think>\nplanning\n</think>\n\nDone."),
        msg("user", "<tool_response>42</tool_response>"),
    ],
    "no_system": [msg("user", "Hi"), msg("assistant", "Hello, how can I help?"), msg("user", "Tell me a joke.")],
    "assistant_last": [msg("user", "Ping"), msg("assistant", "Pong")],
    "unicode": [
        msg("system", "  Ünïcödé système  \n"),
        msg("user", "  Héllo 世界 🎉 \"quoted\" 'single' back\\slash\ttab\nnext line  "),
    ],
    "bad_alternation": [msg("user", "first"), msg("user", "second")],
    "empty": [],
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city, e.g. \"Zürich\"",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
                },
                "required": ["city"],
                "strict": True,
                "default": None,
            },
        },
    }
]

# Templates in the style of common model families, plus ones aimed at particular constructs.
FAMILY_TEMPLATES = {
    "chatml_default_system": """\
{%- if messages[0]['role'] == 'system' -%}
    {%- set system_message = messages[0]['content'] -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set system_message = 'You are a helpful assistant.' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
<|im_start|>system
{{ system_message }}<|im_end|>
{% for message in loop_messages %}
<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}
""",
    "llama3_headers": """\
{{- bos_token }}
{%- for message in messages %}
    {%- set text = '<|start_header_id|>' ~ message['role'] ~ '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}
    {{- text }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
""",
    "mistral_alternation": """\
{%- if messages and messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- set ns = namespace(expect_user=true, turns=0) %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != ns.expect_user %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- set ns.expect_user = not ns.expect_user %}
    {%- if message['role'] == 'user' %}
        {%- set ns.turns = ns.turns + 1 %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token }}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, got ' ~ message['role']) }}
    {%- endif %}
{%- endfor %}
{{- '<!-- turns: ' ~ ns.turns ~ ' -->' }}
""",
    "gemma_model_role": """\
{{ bos_token }}
{% if messages[0]['role'] == 'system' %}
    {% set first_user_prefix = messages[0]['content'] + '\\n\\n' %}
    {% set loop_messages = messages[1:] %}
{% else %}
    {% set first_user_prefix = '' %}
    {% set loop_messages = messages %}
{% endif %}
{% for message in loop_messages %}
    {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {% endif %}
    {% if message['role'] == 'assistant' %}
        {% set role = 'model' %}
    {% else %}
        {% set role = message['role'] %}
    {% endif %}
    <start_of_turn>{{ role }}
{{ (first_user_prefix if loop.first else '') + message['content'] | trim }}<end_of_turn>
{% endfor %}
{% if add_generation_prompt %}
<start_of_turn>model
{% endif %}
""",
    "phi_loop_last": """\
{% for message in messages %}
{% if message['role'] == 'system' %}
<|system|>
{{ message['content'] }}<|end|>
{% elif message['role'] == 'user' %}
<|user|>
{{ message['content'] }}<|end|>
{% elif message['role'] == 'assistant' %}
<|assistant|>
{{ message['content'] }}{% if not loop.last %}<|end|>
{% else %}{{ eos_token }}{% endif %}
{% endif %}
{% if loop.last and add_generation_prompt and message['role'] != 'assistant' %}
<|assistant|>
{% endif %}
{% endfor %}
""",
    "tools_tojson": """\
{%- if tools is defined and tools %}
<|tools|>
{%- for tool in tools %}
{{ tool | tojson }}
{{ tool.function | tojson(indent=2) }}
{{ tool['function']['parameters'] | tojson(indent=4, sort_keys=true) }}
{{ tool.function.parameters.properties | tojson(separators=(',', ':')) }}
{{ tool.function.name | tojson(true) }} {{ tool.function.description | tojson(ensure_ascii=true) }}
{%- endfor %}
{%- else %}
no tools
{%- endif %}
{% for message in messages %}
{{ message | tojson }}
{% endfor %}
{{ {'n': 1, 'f': 2.5, 'big': 1e20, 'neg': -0.5, 'b': false, 'none': none, 'list': [1, 'two', [3]], 'empty': {}, 'el': []} | tojson }}
{{ {'nested': {'a': [1, {'b': []}]}} | tojson(indent=2) }}
{{ "tab\\tnewline\\nquote\\"backslash\\\\ctrl\\x01 é 🎉" | tojson }}
{{ (1, 2) | tojson }} {{ messages | length | tojson }}
""",
    "slicing_and_methods": """\
{% set last = messages[-1] %}
last={{ last.role }}:{{ last.content[:5] }}|{{ last.content[-3:] }}|{{ last.content[::-1] }}|{{ last.content[1:8:2] }}
rest={% for m in messages[1:] %}{{ m.role }},{% endfor %}
reversed={% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %}
{% for m in messages %}
[{{ m.content.strip() }}][{{ m.content.lstrip() }}][{{ m.content.rstrip() }}][{{ m.content.strip(' !H') }}]
[{{ m.content.upper() }}][{{ m.content.lower() }}][{{ m.content.title() }}][{{ m.content.capitalize() }}]
[{{ m.content.startswith('Hel') }}][{{ m.content.endswith(('?', '!')) }}][{{ m.content.replace('e', 'E') }}][{{ m.content.replace('l', '', 1) }}]
[{{ m.content.split() }}][{{ m.content.split(' ', 1) }}][{{ m.content.rsplit(' ', 1) }}][{{ m.content.find('o') }}][{{ m.content.count('e') }}]
[{{ '-'.join(m.content.split()) }}][{{ m.role in ['user', 'system'] }}][{{ 'ss' in m.role }}][{{ m['role'] not in 'assistant' }}]
{% endfor %}
{{ messages[10] }}|{{ messages[10] is defined }}|{{ messages[0].missing is undefined }}|{{ (messages|first).role }}|{{ (messages|last)['role'] }}
""",
    "whitespace_edges": """\
A  {% if true %}   kept   {% endif %}  B
    {% if true %}
    indented block line
    {% endif %}
	{% if true %}tabbed{% endif %}
C {{- '|' -}} D
E   {{ 'x' }}   F
G
{%- if true %}
H
{%- endif %}
I  {%- if true -%}  J  {%- endif -%}  K
{# a comment #}
L {# inline comment #} M
    {#- stripped comment -#}
N
{%+ if true %}plus-kept-indent{% endif +%}
O
  {{ 'var tags are not lstripped' }}
{% for i in range(3) %}
  item {{ i }}
{% endfor %}
{% for i in range(2) -%}
  [{{ i }}]
{%- endfor %}
P{% set flag = 0 if false else 1 %}{{ flag }}
""",
    "nested_namespace": """\
{% set ns = namespace(count=0, roles=[], seen_system=false, last_user='') %}
{% set outer = 'outside' %}
{% for message in messages %}
    {% set outer = 'inside' %}
    {% if message.role == 'system' %}
        {% set ns.seen_system = true %}
    {% elif message.role == 'user' %}
        {% set ns.last_user = message.content %}
        {% for word in message.content.split() %}
            {% if word|length > 3 %}
                {% set ns.count = ns.count + 1 %}
            {% endif %}
        {% endfor %}
    {% endif %}
    {% set ns.roles = ns.roles + [message.role] %}
{% endfor %}
outer={{ outer }} count={{ ns.count }} roles={{ ns.roles|join(',') }} system={{ ns.seen_system }} last={{ ns.last_user }}
{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{% if not loop.last %}+{% endif %}{% endfor %}{% if not loop.last %} / {% endif %}{% endfor %}

""",
    "loop_variables": """\
{% for message in messages %}
{{ loop.index }}/{{ loop.length }} i0={{ loop.index0 }} r={{ loop.revindex }} r0={{ loop.revindex0 }} first={{ loop.first }} last={{ loop.last }} {{ loop.cycle('odd', 'even') }} prev={{ loop.previtem.role if loop.previtem is defined else '-' }} next={{ loop.nextitem['role'] if loop.nextitem is defined else '-' }} {{ loop.nextitem | default('end') is string }}
{% else %}
no messages
{% endfor %}
{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{% endfor %}

{% for m in messages %}{% if m.role == 'assistant' %}{% continue %}{% endif %}{% if loop.index > 3 %}{% break %}{% endif %}{{ m.role[:1] }}{% endfor %}

{% if add_generation_prompt %}<gen>{% endif %}
""",
    "filters_and_tests": """\
{% for m in messages %}
{{ m.role | upper }} {{ m.role | capitalize }} {{ m.content | length }} {{ m.content | trim | lower }} {{ m.content | title }} {{ m.content | first }}{{ m.content | last }} {{ m | list | join('+') }} {{ m.content | replace(' ', '_') }}
{% endfor %}
{{ messages | map(attribute='role') | join(', ') }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'in', ['system']) | map(attribute='role') | list }}
{{ undefined_name | default('fallback') }}|{{ '' | default('empty', true) }}|{{ none | default('x') }}|{{ undefined_name | length }}|{{ undefined_name | string }}|[{{ undefined_name }}]
{{ '42' | int + 1 }} {{ '3.9' | int }} {{ 'abc' | int }} {{ 'abc' | int(7) }} {{ 3.99 | int }} {{ '12' | float }} {{ 'x' | float(1.5) }} {{ true | int }}
{{ {'b': 1, 'a': 2} | items | list }} {{ 'abc' | list }} {{ [3, 1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ 42 | string ~ '!' }}
{{ [1, none, 'a', [2]] | join('|') }} {{ [0, 1, 2, '', 'x'] | select | list }} {{ range(10) | select('odd') | list }} {{ range(10) | reject('divisibleby', 3) | list }}
{{ x is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'a' is number }}
{{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'abc' is iterable }} {{ 3 is iterable }} {{ x is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }}
{{ 1 is not none }} {{ 'a' is not string }} {{ messages is sequence }} {{ 2 is in [1, 2] }} {{ 'A' is upper }} {{ 'a' is lower }} {{ true is boolean }} {{ 1 is integer }} {{ 1.0 is float }}
{{ 'a' is eq 'a' }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 3 is ge 3 }} {{ 3 is le 2 }} {{ 3 is ne 3 }} {{ range is callable }} {{ 'abc' is callable }}
""",
    "expressions": """\
{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ 2 ** -1 }}
{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 1e16 }} {{ 0.1 + 0.2 }} {{ 1_000 }} {{ 0x1f }} {{ -3 }} {{ - 2.5 }} {{ 10 - 2 - 3 }} {{ 1 + 1.0 }}
{{ 'a' + 'b' }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ 3 * [1] }} {{ [1] + [2, 3] }} {{ 'x' ~ undefined_name ~ 'y' }}
{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2 }} {{ 'a' in 'cat' }} {{ 'z' not in 'cat' }}
{{ true and 'yes' }} {{ false or 'fallback' }} {{ 0 or '' or 'last' }} {{ none and 1 }} {{ not none }} {{ not 'x' }} {{ 'y' if true }}|{{ 'y' if false }}|{{ 'a' if 0 else 'b' if 1 else 'c' }}
{{ True }} {{ False }} {{ None }} {{ none }} {{ [1, 'two', 3.0, none, true] }} {{ {'k': 'v', 'n': [1]} }} {{ (1,) }} {{ () }} {{ (1, 'a') }} {{ [] }} {{ {} }}
{{ 'it\\'s' }} {{ "say \\"hi\\"" }} {{ 'tab\\tx' }} {{ 'nl\\nx' }} {{ 'uni\\u00e9\\x41\\101' }} {{ 'back\\\\slash' }} {{ 'unknown\\qescape' }} {{ 'adjacent' 'strings' }}
{{ ['it\\'s', "q\\"", 'x\\ny', 'é'] }} {{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ messages | length > 1 }}
{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 'dflt') }} {{ {'a': 1, 'b': 2}.items() | list }} {{ {'a': 1}.keys() | list }} {{ {'a': 1}.values() | list }} {{ {'a': 1}['a'] }}
{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = (3, 4) %}{% set c, d = t %}{{ c + d }} {% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %} {% for x, y in [[1, 2], [3, 4]] %}{{ x * y }}{% endfor %}
{% set d = dict(a=1, b='two') %}{{ d }} {% set n = namespace({'z': 9}, y=8) %}{{ n.z }}{{ n.y }} {{ messages[0]['role'] if messages else 'none' }}
""",
    "macros_and_blocks": """\
{% macro render_turn(role, content, suffix='<end>') %}
<{{ role }}>{{ content }}{{ suffix }}
{% endmacro %}
{% for m in messages %}
{{- render_turn(m.role, m.content) -}}
{{- render_turn(m.role, 'x', suffix='!') -}}
{% endfor %}
{% set block %}
  Captured {{ messages | length }} messages
{% endset %}
[{{ block }}]
{% set shout | upper %}quiet words{% endset %}
{{ shout }}
{% filter upper %}filtered {{ 'text' }}{% endfilter %}

{% macro greet(name) %}Hello {{ name }}{{ missing }}{% endmacro %}
{{ greet('you') }}|{{ greet() }}
""",
    "whitespace_crlf": "A\r\n{% if true %}\r\n  B\r\n  {%- if false %}x{% else %}\r\n  C{% endif %}\r\n{% endif %}\r\nD\r\rE\r\n\r\n",
    "whitespace_line_start": """\
{% for m in messages %}
    {{- m.role }}
    {%- if not loop.last %}, {% endif %}
{% endfor %}

  {%- set x = 1 -%}
  after-set {{ x }}
{% if true %}  {# comment after tag #}
 {%+ if true %}*{% endif %}
{% endif -%}
{#- comment at end #}
""",
    "reasoning_strip": """\
{%- set ns = namespace(last_query=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if message.role == 'user' and message.content is string and not message.content.startswith('<tool') %}
        {%- set ns.last_query = index %}
        {%- break %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- set content = message.content if message.content is string else '' %}
    {%- if message.role == 'assistant' %}
        {%- set reasoning = '' %}
        {%- if '</think>' in content %}
            {%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query %}
            {{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' + content + '<|im_end|>\\n' }}
        {%- else %}
            {{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}
        {%- endif %}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
""",
}

# One-line templates, each its own case: scoping, loops, macros, strings, numbers, filters, tests.
SEMANTIC_LINES = r"""
{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}
{% for i in range(2) %}{% for j in range(2) %}{{ loop.index }}{{ i }}{% set i = 9 %}{{ i }}{% endfor %}{{ i }}{% endfor %}
{% set outer_loop = none %}{% for a in 'ab' %}{% set o = loop %}{% for b in 'xy' %}{{ o.index }}{{ loop.index }}{{ o.last }}{% endfor %}{% endfor %}
{% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m('x') }}{{ m('x', 'y') }}{{ m(b='k', a='j') }}
{% macro m() %}{{ x }}{% endmacro %}{% set x = 5 %}{{ m() }}
{% set x = 5 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }}
{% macro m(a) %}{% set a = a + 1 %}{{ a }}{% endmacro %}{% set a = 1 %}{{ m(10) }}{{ a }}
{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% else %}E{% endfor %}
{% for i in [] %}x{% else %}empty{{ loop is defined }}{% endfor %}
{% for i in range(3) if i is odd %}{{ loop.index }}/{{ loop.length }}:{{ i }} {% endfor %}
{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}{% for c in 'hé' %}[{{ c }}]{% endfor %}
{% for a, b in [(1, 2), 'xy'] %}{{ a }}{{ b }}{% endfor %}
{{ loop }}|{{ loop is defined }}
{% for i in range(3) %}{{ loop.changed(i // 2) }}{% endfor %}
{% for i in range(4) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}
{{ 'abc'[1] }}{{ 'abc'[-1] }}{{ 'abc'[10] }}|{{ 'abc'[1:100] }}|{{ 'abc'[-100:2] }}|{{ [1,2,3,4,5][::2] }}|{{ [1,2,3,4,5][4:1:-1] }}|{{ (1,2,3)[1:] }}
{{ 'é🎉x'[1] }}{{ 'é🎉x' | length }}{{ 'é🎉x'[::-1] }}{{ 'e\u0301' | length }}
{{ ' \t\n x \n' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ '  a  '.lstrip() }}|{{ '  a  '.rstrip() }}|{{ 'abcba'.strip('ab') }}
{{ 'a b  c'.split(' ') }}{{ '  a b  c '.split() }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ ''.split() }}{{ ''.split(',') }}{{ '  a b c  '.split(None, 1) }}{{ '  a b c  '.rsplit(None, 1) }}
{{ 'hello world'.title() }} {{ "they're bill's" .title() }} {{ 'hello-world foo_bar'.title() }} {{ 'HELLO' | capitalize }} {{ 'hello world' | title }} {{ "it's-a (test) [x] <y>" | title }}
{{ 'aaa'.replace('a', 'b', 2) }}{{ 'abc'.replace('', '-') }}{{ 'abc' | replace('b', 'X') }}{{ 'aaa' | replace('a', 'c', 1) }}
{{ 'Straße'.upper() }} {{ 'İ'.lower() | length }} {{ 'ǆ'.title() }} {{ 'ǆa' | capitalize }}
{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith('') }}{{ 'abc'.find('') }}{{ 'abc'.find('z') }}{{ 'aaaa'.count('aa') }}
{{ 1.0 }} {{ 1.5e300 * 1e10 }} {{ -1.5e300 * 1e10 }} {{ 100.0 }} {{ 1e-4 }} {{ 1e-5 }} {{ 123456789.123 }} {{ 2 ** 62 }} {{ 0.1 * 3 }} {{ -0.0 }} {{ 1 / 3 }}
{{ [1.0, 1e100, 0.5] | tojson }} {{ 1e16 | tojson }} {{ 'a\u2028b\x7f\x1f' | tojson }} {{ 'a\u2028b\x7f' | tojson(ensure_ascii=true) }} {{ '🎉' | tojson(ensure_ascii=true) }}
{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'} | tojson }} {{ {'b': 1, 'a': {'d': 1, 'c': 2}} | tojson(sort_keys=true) }} {{ [] | tojson(indent=2) }} {{ [[]] | tojson(indent=2) }} {{ {'a': []} | tojson(indent='\t') }}
{{ [1, [2, 3]] | tojson(indent=0) }} {{ {'a': 1} | tojson(separators=(',', '=')) }} {{ {'a': 1, 'b': 2} | tojson(indent=2, separators=(', ', ': ')) }}
{{ 1 == 1.0 }}{{ {1: 'a'}[1.0] }}{{ {1: 'a'}[true] }}{{ 'a' == 'a' }}{{ [1, [2]] == [1, [2]] }}{{ (1, 2) == [1, 2] }}{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}{{ none == false }}{{ x == y }}
{{ 1 in [1.0] }}{{ 'a' in {'a': 1} }}{{ [1] in [[1]] }}{{ 'b' in ['abc'] }}{{ 1 in x }}{{ x in [1] }}
{{ [3, 1] < [3, 1, 0] }}{{ 'B' < 'a' }}{{ 'é' > 'z' }}{{ 2 > 1.5 }}{{ true > false }}{{ (1, 2) < (1, 3) }}
{{ 7 // -2 }} {{ 7 % -2 }} {{ -7.0 // 2 }} {{ 7.5 % -2 }} {{ -0.0 % 5 }} {{ 2 ** 0.5 }} {{ (-8) ** 2 }} {{ -2 ** 2 }} {{ 10 / 4 }} {{ 1e308 + 1e308 }}
{{ true + true }} {{ true * 3 }} {{ 'ab' * 0 }} {{ 'ab' * -1 }} {{ [1] * true }} {{ 3 * 'x' }} {{ -true }}
{{ x | default(1) | default(2) }} {{ none | default(1, true) }} {{ 0 | default(1, boolean=true) }} {{ false | d('F') }} {{ x | d }}
{{ [] | first }}|{{ [] | last }}|{{ '' | first }}|{{ {'k': 1} | first }}|{{ {'k': 1, 'j': 2} | last }}|{{ 'abc' | first }}
{{ '0x1A' | int }} {{ '0x1A' | int(base=16) }} {{ '1A' | int(base=16) }} {{ ' -42 ' | int }} {{ '1_000' | int }} {{ '1e3' | int }} {{ '-1.9' | int }} {{ 'nan' | int }} {{ none | int }} {{ '' | int(5) }} {{ 1.9 | int }} {{ -1.9 | int }}
{{ '3.5' | float }} {{ ' 1e2 ' | float }} {{ 'inf' | float }} {{ 'abc' | float }} {{ none | float }} {{ 3 | float }} {{ true | float }} {{ '1_5.5' | float }}
{{ [1, 2] | join }} {{ ['a', 'b'] | join(', ') }} {{ messages | join('|', attribute='role') }} {{ 'abc' | join('-') }} {{ {'a': 1, 'b': 2} | join(',') }}
{{ [{'a': {'b': 1}}, {'a': {'b': 2}}] | map(attribute='a.b') | list }} {{ [{'a': 1}, {}] | map(attribute='a', default='D') | list }} {{ [[1, 2], [3, 4]] | map(attribute='1') | list }} {{ ['a', 'B'] | map('upper') | list }} {{ [' a ', 'b '] | map('trim') | join }}
{{ [{'r': 'u', 'c': 1}, {'r': 'a'}, {'r': 'u', 'c': 2}] | selectattr('r', 'eq', 'u') | map(attribute='c') | list }} {{ [{'c': 0}, {'c': 1}, {}] | selectattr('c') | list }} {{ [{'c': 0}, {'c': 1}, {}] | rejectattr('c') | list }} {{ [{'c': 'x'}, {'c': none}] | selectattr('c', 'none') | list }} {{ [{'c': 'x'}, {}] | selectattr('c', 'defined') | list }}
{{ [1, 2, 3, 4] | select('gt', 2) | list }} {{ [1, 'a', none] | select('string') | list }} {{ [1, 'a', none] | reject('none') | list }} {{ ['a', 'b'] | select('in', 'abc') | list }}
{{ messages | selectattr('role', 'equalto', 'user') | first }} {{ (messages | last).content }}
{{ x is not defined and y is undefined }} {{ not x is defined }} {{ 1 is number and '1' is not number }} {{ none is not none }} {{ [] is sequence }} {{ {} is sequence }} {{ 'x' is sequence }} {{ 3 is sequence }}
{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ '123' is lower }} {{ 'ABC1' is upper }} {{ 3 is divisibleby(3) }} {{ 1.0 is integer }} {{ 1 is float }} {{ x is callable }} {{ ns is callable }} {{ messages.append is callable }}
{{ "a" if x else "b" }} {{ "a" if x is defined }}|{{ (1 if true) + 1 }} {{ 'x' if 1 < 2 < 3 else 'y' }}
{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.items }} {{ ns }}
{% set ns = namespace() %}{% set ns.a = 1 %}{{ ns.a }}{{ ns['a'] }}{{ ns.b }}|{{ ns.b is defined }}
{% set l = [1, 2] %}{{ l.append }}|{{ l[5] }}|{{ l['x'] }}|{{ l.foo }}|{{ l[true] }}|{{ l[-3] }}
{% set a, b = 'xy' %}{{ b }}{{ a }} {% set (c, d), e = [(1, 2), 3] %}{{ c }}{{ d }}{{ e }}
{% set t = 1, 2 %}{{ t }} {{ (1, 2)[0] }} {{ [1, 2, 3][1:2] }} {{ ('a',) }}
{% filter upper | replace('A', '4') %}abc{% endfilter %} {% set s | trim %}   pad   {% endset %}[{{ s }}]
{% set x %}{% for i in range(3) %}{{ i }}{% endfor %}{% endset %}{{ x | length }}{{ x is string }}
{{ "\x41\u00e9\U0001F389\101\0" | length }} {{ 'tab	inside' }}
{{ messages[0]['content'] ~ 1 }} {{ messages | selectattr('content', 'in', ['hi', 'Hello!']) | list | length }}
{{ dict(a=1, b=2) | tojson }} {{ dict([('x', 1)], y=2) }} {{ dict({'a': 1}) }} {{ namespace(a=1).a }}
{{ 'A' ~ 1.0 ~ none ~ [1] ~ {'a': none} ~ (1,) ~ x }}
{{ messages | items | list }}
{{ 5 | string | length }} {{ none | string }} {{ [none] | string }} {{ true | lower }} {{ none | upper }} {{ 3.0 | trim }}
{{ 'x' | list }} {{ (1, 2) | list }} {{ none | list }}
""".strip("\n").split("\n")

# Short templates that must fail, with the message jinja2 gives.
ERROR_TEMPLATES = {
    "error_raise_exception": "{{ raise_exception('custom failure: ' ~ messages | length) }}",
    "error_undefined_attribute": "{{ nothing.at_all }}",
    "error_missing_nested_attribute": "{{ messages[0].missing.deeper }}",
    "error_undefined_arithmetic": "{{ nothing + 1 }}",
    "error_concat_types": "{{ 'a' + 1 }}",
    "error_add_types": "{{ 1 + 'a' }}",
    "error_list_concat": "{{ [1] + 'a' }}",
    "error_compare_types": "{{ 1 < 'a' }}",
    "error_compare_types_reversed": "{{ 1 >= 'a' }}",
    "error_iterate_none": "{% for x in none %}{% endfor %}",
    "error_in_none": "{{ 'a' in none }}",
    "error_in_string": "{{ 1 in 'abc' }}",
    "error_division": "{{ 1 / 0 }}",
    "error_floor_division": "{{ 1 // 0 }}",
    "error_unpack": "{% set a, b = 1 %}",
    "error_unpack_count": "{% set a, b = [1, 2, 3] %}",
    "error_tojson_undefined": "{{ nothing | tojson }}",
    "error_not_callable": "{{ 'abc'() }}",
    "error_unsafe_method": "{{ messages.append(1) }}",
    "error_namespace_assign": "{% set x = 1 %}{% set x.y = 2 %}",
    "error_range_too_big": "{{ range(200000) | length }}",
    "error_items_not_mapping": "{{ [1] | items | list }}",
    "error_int_undefined": "{{ nothing | int }}",
    "error_length_of_int": "{{ 5 | length }}",
    "error_call_undefined": "{{ nothing() }}",
}


def render_case(env, name, template, messages, add_generation_prompt, bos, eos, variables=None):
    case = {
        "name": name,
        "template": template,
        "messages": messages,
        "add_generation_prompt": add_generation_prompt,
        "bos_token": bos,
        "eos_token": eos,
    }
    if variables is not None:
        case["variables"] = variables
    context = dict(variables or {})
    try:
        case["expected"] = env.from_string(template).render(
            messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos, eos_token=eos, **context
        )
    except jinja2.exceptions.TemplateSyntaxError:
        raise
    except Exception as error:  # the renderer must fail with the same message
        case["expected_error"] = str(error)
    return case


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("SHIFTADD_MODEL_DIR", os.path.expanduser("~/.cache/shiftadd/models")),
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    )
    env = make_environment()
    templates = {"smollm2": smollm2_template(model), **FAMILY_TEMPLATES}
    cases = []
    for template_name, template in templates.items():
        for conversation_name, messages in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                bos, eos = ("<s>", "</s>") if add_generation_prompt else ("", "")
                name = f"{template_name}/{conversation_name}/{'gen' if add_generation_prompt else 'nogen'}"
                cases.append(render_case(env, name, template, messages, add_generation_prompt, bos, eos))
    for conversation_name in ("full", "unicode"):
        cases.append(render_case(env, f"tools_tojson/{conversation_name}/with_tools", FAMILY_TEMPLATES["tools_tojson"],
                                 CONVERSATIONS[conversation_name], True, "<s>", "</s>", {"tools": TOOLS}))
    cases.append(render_case(env, "reasoning_strip/thinking/disabled", FAMILY_TEMPLATES["reasoning_strip"],
                             CONVERSATIONS["thinking"], True, "", "", {"enable_thinking": False}))
    for index, template in enumerate(SEMANTIC_LINES):
        cases.append(render_case(env, f"semantics/{index:02d}", template, CONVERSATIONS["full"], False, "", ""))
    for name, template in ERROR_TEMPLATES.items():
        cases.append(render_case(env, name, template, CONVERSATIONS["full"], False, "", ""))
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8") as handle:
        json.dump({"generator": "Scripts/make_template_golden.py", "jinja2": jinja2.__version__, "cases": cases},
                  handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    failures = sum("expected_error" in case for case in cases)
    print(f"wrote {len(cases)} cases ({failures} expected errors) to {OUTPUT}")


if __name__ == "__main__":
    main()
