"""agent: multi-turn tool use against deterministic local tools, graded on the outcome.

Tasks: tasks/agent.yaml. Tools: benchloop/agent_tools.py. Loop and checker:
benchloop/checkers/agent.py (its ``run`` drives the conversation; the recorder calls it).
"""
BENCHLOOP_SUITE = "agent"


def test_agent(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
