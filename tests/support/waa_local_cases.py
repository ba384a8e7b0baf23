"""WAA's LibreOffice tasks run end to end on a local arena (no Windows VM): their ``C:\\Users\\Docker\\...``
paths land in the desktop user's home, their window titles ("a.xlsx — LibreOffice Calc") match the Linux
ones, and their files are stand-ins served on loopback for WAA's asset repository."""

from __future__ import annotations

from .osworld_cases import Case, docx, files, infeasible, office_case, xlsx

DOWNLOADS = "~/Downloads"
WEEKS = [["Week", "Sales", "COGS"], [1, 100, 60], [2, 120, 70], [3, 90, 50]]


def calc(task_id: str, name: str, before: list[list], after: list[list], gold: str) -> Case:
    return office_case(task_id, f"{DOWNLOADS}/{name}", "Calc", xlsx(before), xlsx(after), gold)


def writer(task_id: str, name: str, before: list[str], after: list[str], gold: str) -> Case:
    return office_case(task_id, f"{DOWNLOADS}/{name}", "Writer", docx(before), docx(after), gold)


WAA_CASES = [
    Case("1e8df695", assets=files(**{"WeeklySales.xlsx": xlsx(WEEKS), "6_WeeklySales_gt1.xlsx": xlsx(
        [WEEKS[0] + ["Profit"], *[row + [row[1] - row[2]] for row in WEEKS[1:]]])}),
         solve=lambda s: s.act({"action_type": "HOTKEY", "keys": ["ctrl", "home"]},
                               *[{"action_type": "PRESS", "key": "right"}] * 3,
                               {"action_type": "TYPING", "text": "Profit\n=B2-C2\n=B3-C3\n=B4-C4\n"})),
    calc("7a4e4bc8", "Name_Order_Id_move_column.xlsx",
         [["Order ID", "Date", "First Name", "Last Name", "Sales"], [7, "2024-01-02", "Ada", "Lo", 5]],
         [["Date", "First Name", "Last Name", "Order ID", "Sales"], ["2024-01-02", "Ada", "Lo", 7, 5]],
         "Name_Order_Id_move_column_gold.xlsx"),
    calc("7efeb4b1", "Order_Sales_Serial#.xlsx", [["Seq No.", "Sales"], [None, 5], [None, 7]],
         [["Seq No.", "Sales"], ["No. 1", 5], ["No. 2", 7]], "Order_Sales_Serial#_gold.xlsx"),
    calc("01b269ae", "Student_Level_Fill_Blank.xlsx", [["Name", "Level"], ["a", "L1"], ["b", None], ["c", "L2"]],
         [["Name", "Level"], ["a", "L1"], ["b", "L1"], ["c", "L2"]], "Student_Level_Fill_Blank_gold.xlsx"),
    calc("4de54231", "RampUpAndDown.xlsx", [["t", "v", "a"], [1, 2, 2], [2, 4, None]],
         [["t", "v", "a"], [1, 2, 2], [2, 4, 2]], "3_RampUpAndDown_gt1.xlsx"),
    writer("d53ff5ee", "presentation_instruction_2023_Feb.docx", ["PRESENTATION Instructions", "Speak FOR ten MINUTES."],
           ["presentation instructions", "speak for ten minutes."], "presentation_instruction_2023_Feb_Gold.docx"),
    writer("e528b65e", "Geography_And_Magical_Realism.docx", ["geography and magical realism", "a short essay"],
           ["Geography And Magical Realism", "A Short Essay"], "Geography_And_Magical_Realism_Gold.docx"),
    writer("adf5e2c3", "Essay_Writing_English_for_uni.docx", ["Essay", "References"],
           ["Essay", "References", "Steinberg, F. M., Bearden, M. M., & Keen, C. L. (2003)."],
           "Essay_Writing_English_for_uni_Gold.docx"),
    writer("88fe4b2d", "CCCH9003_Tutorial_guidelines.docx", ["First one. Second one.", "Rest."],
           ["First one.", "Second one.", "Rest."], "CCCH9003_Tutorial_guidelines_Gold.docx"),
    infeasible("INF-bb8c"),
]
