"""Adapters to other frameworks, each an optional extra imported only when its module is:
:mod:`hybridmem.integrations.langchain` (``hybridmem[langchain]``: a LangChain retriever and a
LangGraph store) and :mod:`hybridmem.integrations.mcp_server` (``hybridmem[mcp]``: the MCP
server of ``hybridmem mcp``)."""
