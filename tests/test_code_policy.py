"""The pyautogui face under ``code_policy="pyautogui_calls"``: only pyautogui's input functions on literal
arguments run, so an RL policy cannot reach the score by writing the scored file itself. The default
stays WAA's rule (any Python runs)."""

from __future__ import annotations

import gymnasium as gym
import pytest

from arena_gym.actions import InvalidAction, check_code

ALLOWED = [
    "import pyautogui; pyautogui.click(10, 20)",
    "import pyautogui\npyautogui.hotkey('ctrl', 's')\nimport time\ntime.sleep(0.5)",
    "pyautogui.write('hello', interval=0.01)",
    "pyautogui.press(['tab', 'enter'])",
    "pyautogui.moveTo(-1, 5)",
]
REFUSED = {
    "open('/home/user/Desktop/out.txt', 'w').write('hello')": "not one of pyautogui's input functions",
    "import os; os.system('echo 1 > scored.txt')": "only `import pyautogui`",
    "pyautogui.write(open('/etc/passwd').read())": "is not a literal",
    "for k in 'ab':\n    pyautogui.press(k)": "only calls of pyautogui's functions",
    "x = pyautogui.position()": "only calls of pyautogui's functions",
    "import pyautogui as p": "only `import pyautogui`",
    "pyautogui.click(**{'x': 1})": "kwargs are not allowed",
    "__import__('os').remove('f')": "not one of pyautogui's input functions",
}


@pytest.mark.parametrize("code", ALLOWED)
def test_pyautogui_calls_admits_input_calls(code):
    assert check_code(code, "pyautogui_calls") == code


@pytest.mark.parametrize("code", list(REFUSED))
def test_pyautogui_calls_refuses_everything_else_before_it_runs(code):
    with pytest.raises(InvalidAction, match=REFUSED[code].replace("(", r"\(").replace("`", "`")):
        check_code(code, "pyautogui_calls")
    assert check_code(code) == code  # WAA's rule: any code


def test_the_env_takes_the_policy_from_config():
    env = gym.make("WAA-v0", server_url="http://127.0.0.1:9", evaluate_url=None, action_face="pyautogui",
                   code_policy="pyautogui_calls")
    try:
        assert env.unwrapped.config.code_policy == "pyautogui_calls"
        with pytest.raises(InvalidAction):
            env.unwrapped._translate("open('x', 'w')")
    finally:
        env.close()
    with pytest.raises(ValueError, match="code_policy"):
        gym.make("WAA-v0", code_policy="anything")


def test_the_structured_action_space_contains_and_samples_real_actions():
    from arena_gym import actions

    env = gym.make("WAA-v0", server_url="http://127.0.0.1:9", evaluate_url=None, observation={"width": 320, "height": 200})
    try:
        space = env.action_space
        assert space.contains({"action_type": "DONE"}) and space.contains('{"action_type": "CLICK", "x": 5, "y": 6}')
        assert not space.contains("rm -rf ~") and not space.contains({"action_type": "JUMP"})
        assert not space.contains({"action_type": "PRESS", "key": "no-such-key"})
        space.seed(3)
        drawn = [space.sample() for _ in range(300)]
        assert {a["action_type"] for a in drawn} == set(actions.ACTION_TYPES)  # every type comes up
        for a in drawn:
            parsed = actions.parse_action(a)
            if getattr(parsed, "x", None) is not None:
                assert 0 <= parsed.x < 320 and 0 <= parsed.y < 200
    finally:
        env.close()
    code_env = gym.make("WAA-v0", server_url="http://127.0.0.1:9", evaluate_url=None, action_face="pyautogui")
    try:
        assert code_env.action_space.contains("import pyautogui; pyautogui.click(1, 2)")
    finally:
        code_env.close()
