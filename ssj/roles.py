"""The roles of SPEC §1, their Chinese names, and what each is for."""

ADMIN = "admin"
STAFF = "staff"
SECTION_HEAD = "section_head"
INSPECTOR = "inspector"
SUPERVISOR = "supervisor"
DISCIPLINE = "discipline"

ROLE_NAMES = {
    STAFF: "科室工作人员",
    SECTION_HEAD: "科室负责人",
    INSPECTOR: "执法检查人员",
    SUPERVISOR: "局领导",
    DISCIPLINE: "纪检监察",
    ADMIN: "系统管理员",
}

ROLE_DUTIES = {
    STAFF: "维护本科室的事项清单和名录库，制定抽查任务，组织摇号。",
    SECTION_HEAD: "拥有本科室工作人员的全部权限，审核检查报告，申请公开结果。",
    INSPECTOR: "仅查看和办理分配给本人的检查任务。",
    SUPERVISOR: "审批年度抽查计划，审批结果解封与公开。",
    DISCIPLINE: "查阅和核验访问日志，查看异常提示；不能查看保密名单。",
    ADMIN: "管理用户、部门、科室、节假日和密钥；不能查看保密名单。",
}

ALL_ROLES = tuple(ROLE_NAMES)

# Who plans a section's work and organises its draws: plans, tasks, ceremonies, publication requests.
PLANNERS = (STAFF, SECTION_HEAD)

# Who keeps the shared directories of a department.
DIRECTORY_EDITORS = (STAFF, SECTION_HEAD)
DIRECTORY_READERS = (STAFF, SECTION_HEAD, SUPERVISOR)
