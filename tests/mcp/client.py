"""A real MCP client for `threat-analyzer mcp`: the official Python SDK (`mcp` on PyPI).

Usage: client.py BINARY FOLDER

Connects over stdio, initializes, lists tools, resources and prompts (when offered), calls each
tool, reads each resource, gets each prompt, and prints one JSON object that tests/mcp.rs
(`the_official_python_sdk_drives_every_tool_and_resource`) checks. Exits 1 on any error.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ARGUMENTS = {
    "summary": {},
    "query": {"query": "threats for Shop.Api.Orders"},
    "file_context": {"path": "api/orders.py"},
    "entity": {"name": "#sqli"},
    "check": {},
    "validate_annotation": {"path": "api/orders.py", "lines": "# @exposes Shop.Api.Orders to #xss"},
    "dfd": {},
    "diff": {"base": "HEAD"},
}


async def main(binary: str, folder: str) -> dict:
    params = StdioServerParameters(command=binary, args=["mcp", "--no-cache", folder], cwd=folder)
    out: dict = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["protocol"] = str(init.protocol_version)
            out["server"] = init.server_info.name
            tools = (await session.list_tools()).tools
            out["tools"] = [t.name for t in tools]
            out["output_schemas"] = [t.name for t in tools if t.output_schema]
            out["calls"] = {}
            for tool in tools:
                result = await session.call_tool(tool.name, ARGUMENTS.get(tool.name, {}))
                structured = result.structured_content or {}
                out["calls"][tool.name] = {
                    "is_error": bool(result.is_error),
                    "keys": sorted(structured.keys()),
                    "text_is_json": json.loads(result.content[0].text) == structured,
                }
            resources = (await session.list_resources()).resources
            out["resources"] = {}
            for resource in resources:
                contents = (await session.read_resource(str(resource.uri))).contents
                out["resources"][str(resource.uri)] = len(contents[0].text)
            if init.capabilities.prompts is not None:
                prompts = (await session.list_prompts()).prompts
                out["prompts"] = {}
                for prompt in prompts:
                    got = await session.get_prompt(prompt.name, {})
                    out["prompts"][prompt.name] = len(got.messages)
            else:
                out["prompts"] = None
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
