#!/usr/bin/env python3
"""Structured outputs and tool calls against a running `shiftadd serve`, through the official openai
client: json_schema output validates with `jsonschema` (streamed and not), tool_choice "required"
gives calls whose arguments validate, a two-turn tool loop with a tool message, LangChain's
with_structured_output and bind_tools (when langchain-openai is installed), and 400s naming the
field for bad schemas, tools and tool messages.
Usage: structured_outputs.py BASE_URL COUNT [--key API_KEY] [--langchain]"""

import json
import sys

import urllib.error
import urllib.request

import jsonschema
from openai import OpenAI

base, count = sys.argv[1], int(sys.argv[2])
key = sys.argv[sys.argv.index("--key") + 1] if "--key" in sys.argv else "unused"
client = OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
model = client.models.list().data[0].id

PET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "species", "age", "toys", "owner"],
    "properties": {
        "name": {"type": "string"},
        "species": {"type": "string", "enum": ["cat", "dog", "parrot"]},
        "age": {"type": "integer"},
        "toys": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "owner": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "city"],
            "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "required": ["city", "unit"],
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "required": ["zone"], "properties": {"zone": {"type": "string"}}}}}
ask = [{"role": "user", "content": "Describe a pet as JSON."}]
fmt = {"type": "json_schema", "json_schema": {"name": "pet", "schema": PET, "strict": True}}
ok = True


def check(name, passed, total):
    global ok
    print(f"{name}: {passed} of {total}")
    ok = ok and passed == total


def valid(text, schema):
    try:
        jsonschema.validate(json.loads(text), schema)
        return True
    except (ValueError, jsonschema.ValidationError) as e:
        print("  invalid:", repr(text)[:300], e.__class__.__name__)
        return False


# json_schema, not streamed and streamed; sampled (temperature 1) with a seed per request.
passed = 0
for i in range(count):
    r = client.chat.completions.create(model=model, messages=ask, response_format=fmt, max_tokens=300, seed=i,
                                       temperature=1.0)
    passed += r.choices[0].finish_reason == "stop" and valid(r.choices[0].message.content, PET)
check("json_schema", passed, count)
passed = 0
for i in range(count):
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model=model, messages=ask, response_format=fmt, max_tokens=300, seed=1000 + i, temperature=1.0, stream=True)
        if c.choices)
    passed += valid(text, PET)
check("json_schema streamed", passed, count)
r = client.chat.completions.create(model=model, messages=ask, response_format={"type": "json_object"}, max_tokens=200)
check("json_object", int(isinstance(json.loads(r.choices[0].message.content), dict)), 1)

# tool_choice "required": every answer is a call whose arguments follow the parameters.
weather_ask = [{"role": "user", "content": "What is the weather like in Paris?"}]
passed = 0
for i in range(count):
    r = client.chat.completions.create(model=model, messages=weather_ask, tools=[WEATHER, TIME], tool_choice="required",
                                       max_tokens=200, seed=i, temperature=1.0)
    c = r.choices[0]
    calls = c.message.tool_calls or []
    good = c.finish_reason == "tool_calls" and c.message.content is None and len(calls) == 1
    for call in calls:
        schema = {"get_weather": WEATHER, "get_time": TIME}[call.function.name]["function"]["parameters"]
        good = good and call.id.startswith("call_") and valid(call.function.arguments, schema)
    passed += good
check("tool_choice required", passed, count)

# A named function, streamed: the call arrives as tool_calls deltas.
stream = client.chat.completions.create(model=model, messages=weather_ask, tools=[WEATHER, TIME], max_tokens=200,
                                        tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True)
name, arguments, finish = "", "", None
for chunk in stream:
    for c in chunk.choices:
        for d in c.delta.tool_calls or []:
            name += d.function.name or ""
            arguments += d.function.arguments or ""
        finish = c.finish_reason or finish
check("named tool, streamed", int(name == "get_weather" and finish == "tool_calls"
                                  and valid(arguments, WEATHER["function"]["parameters"])), 1)

# A two-turn tool loop: call, tool result, final answer in text.
messages = [{"role": "developer", "content": "You are a weather assistant."}] + weather_ask
first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER], tool_choice="required",
                                       max_tokens=200, temperature=0)
call = first.choices[0].message.tool_calls[0]
messages += [{"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
             {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 18, "sky": "clear"})}]
second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER], tool_choice="none",
                                        max_tokens=40, temperature=0)
answer = second.choices[0].message.content
check("tool loop", int(bool(answer) and second.choices[0].message.tool_calls is None), 1)
print("  answer:", repr(answer))
auto = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER], max_tokens=60, temperature=0)
c = auto.choices[0]
check("tool_choice auto", int((c.finish_reason == "tool_calls") == bool(c.message.tool_calls)), 1)

# Bad input: 400 naming the field.
bad = [
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"a": {"type": "string", "pattern": "^a"}}}}}},
     "response_format.json_schema.schema.properties.a.pattern"),
    ({"response_format": {"type": "bogus"}}, "response_format.type"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}],
      "tool_choice": "required"}, "tools[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": 3}}]}, "tools[0].function.parameters"),
    ({"messages": [{"role": "tool", "content": "18C"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                                          "function": {"name": "f"}}]}]},
     "messages[0].tool_calls[0].function.arguments"),
    ({"tool_choice": "required"}, "tool_choice"),
]
passed = 0
for extra, param in bad:
    body = {"model": model, "messages": ask, **extra}
    request = urllib.request.Request(base + "/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json", "Authorization": "Bearer " + key})
    try:
        status, text = 200, urllib.request.urlopen(request, timeout=60).read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    good = status == 400 and json.loads(text)["error"]["param"] == param
    if not good:
        print("  bad input answered", status, text[:200])
    passed += good
check("bad input refused", passed, len(bad))
check("server still healthy", int(urllib.request.urlopen(base + "/health", timeout=10).status == 200), 1)

if "--langchain" in sys.argv:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from pydantic import BaseModel, Field

    class Pet(BaseModel):
        name: str = Field(description="the pet's name")
        species: str

    llm = ChatOpenAI(base_url=base + "/v1", api_key=key, model=model, temperature=0, max_tokens=200)
    pet = llm.with_structured_output(Pet).invoke("Describe a pet.")
    check("langchain with_structured_output", int(isinstance(pet, Pet)), 1)

    @tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return "sunny"

    msg = llm.bind_tools([get_weather], tool_choice="required").invoke("What is the weather in Paris?")
    check("langchain bind_tools", int(len(msg.tool_calls) == 1 and msg.tool_calls[0]["name"] == "get_weather"
                                      and isinstance(msg.tool_calls[0]["args"].get("city"), str)), 1)

sys.exit(0 if ok else 1)
