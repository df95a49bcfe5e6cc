"""agent: multi-turn tool use against deterministic local tools, graded on the outcome.

Tasks: tasks/agent.yaml. The loop (benchloop/drivers/agentloop.py) plays the tools of
benchloop/agent_tools/; benchloop/checkers/agent.py judges the final state and answer.
"""
from benchloop.checkers import agent as checker
from benchloop.drivers import agentloop as driver

BENCHLOOP_SUITE = "agent"


def test_agent(task, conversation, record):
    ex = driver.run(task, conversation)  # the real tool loop, until a final answer or the turn limit
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge the outcome (pure)
    record(ex, verdict)
