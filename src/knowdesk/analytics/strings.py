"""The analytics dashboard's words: key -> (English, Chinese). `{name}` marks a value filled in.

Kept apart from the console's table (console/strings.py) because that one is the console's own:
its tests hold every key to being shown by a console template or script, which these are not.
The dashboard's `t` looks here first and then in the console's table, so words both show
(ticket statuses, priorities, the bot's decisions, roles) are written once, there.
"""

STRINGS: dict[str, tuple[str, str]] = {
    # -- frame and filters
    "analytics.language": ("Language", "语言"),
    "analytics.filters": ("Filters", "筛选"),
    "analytics.from": ("From", "开始日期"),
    "analytics.to": ("To", "结束日期"),
    "analytics.by": ("By", "统计粒度"),
    "analytics.interval.day": ("day", "天"),
    "analytics.interval.week": ("week", "周"),
    "analytics.interval.month": ("month", "月"),
    "analytics.tz": ("Time zone", "时区"),
    "analytics.channel": ("Channel", "渠道"),
    "analytics.all_channels": ("All channels", "全部渠道"),
    "analytics.team": ("Team", "团队"),
    "analytics.all_teams": ("All teams", "全部团队"),
    "analytics.category": ("Category", "分类"),
    "analytics.all_categories": ("All categories", "全部分类"),
    "analytics.apply": ("Apply", "应用"),
    # -- errors
    "analytics.error.filters": ("The filters are not valid.", "筛选条件无效。"),
    "analytics.error.backwards": ("The period ends before it starts.", "结束日期早于开始日期。"),
    "analytics.error.too_many": (
        "At most {most} {interval}s: choose a longer interval.",
        "时间段过长（按{interval}最多 {most} 段）：请选择更粗的统计粒度。",
    ),
    "analytics.error.time_zone": ("Unknown time zone {tz}.", "未知时区 {tz}。"),
    "analytics.error.value": ("{field}: {value} is not a valid value.", "{field}：{value} 无效。"),
    "analytics.error.role": (
        "Your role ({role}) may not see analytics.",
        "您的角色（{role}）无权查看数据分析。",
    ),
    "analytics.signin.another": ("Sign in with another account", "使用其他账户登录"),
    "analytics.signin.or_ask": (
        ", or ask an owner of the workspace for access.",
        "，或请工作区所有者为您开通权限。",
    ),
    # -- key figures
    "analytics.kpis": ("Key figures", "关键指标"),
    "analytics.kpi.conversations": ("Conversations", "会话数"),
    "analytics.kpi.deflection": ("Self-service rate", "自助解决率"),
    "analytics.kpi.handoff": ("Handed to people", "转人工率"),
    "analytics.kpi.csat": ("CSAT ({n} ratings)", "满意度（{n} 条评价）"),
    "analytics.kpi.first_response": ("Chat first response (median)", "会话首次响应（中位数）"),
    "analytics.kpi.resolution": ("Ticket resolution (median)", "工单解决用时（中位数）"),
    "analytics.kpi.sla": ("SLA attainment", "时效达成率"),
    "analytics.kpi.backlog": ("Ticket backlog", "积压工单"),
    # -- durations under a minute (longer ones use the console's time.*)
    "analytics.duration.s": ("{s} s", "{s} 秒"),
    # -- charts
    "analytics.csv": ("CSV", "导出 CSV"),
    "analytics.csv_summary": ("Summary CSV", "导出汇总 CSV"),
    "analytics.chart.conversations": ("Conversations", "会话"),
    "analytics.chart.tickets": ("Tickets", "工单"),
    "analytics.chart.decisions": ("The bot's decisions", "机器人的决策"),
    "analytics.chart.handoff_reasons": ("Hand-off reasons", "转人工原因"),
    "analytics.chart.handoff_reasons_title": (
        "Why conversations went to people",
        "会话为何转给人工",
    ),
    "analytics.chart.ratings": ("Ratings", "评价"),
    "analytics.chart.ratings_title": ("Ratings of the bot's replies", "对机器人回复的评价"),
    "analytics.series.conversations": ("conversations", "会话"),
    "analytics.series.deflected": ("self-served", "自助解决"),
    "analytics.series.handed_off": ("handed off", "转人工"),
    "analytics.series.opened": ("opened", "新建"),
    "analytics.series.solved": ("solved", "已解决"),
    "analytics.series.backlog": ("backlog", "积压"),
    "analytics.series.helpful": ("helpful", "有帮助"),
    "analytics.series.not_helpful": ("not helpful", "没帮助"),
    "analytics.reason.not_covered": ("not covered", "知识库未覆盖"),
    "analytics.reason.customer_asked": ("customer asked", "客户要求"),
    "analytics.reason.bot_error": ("bot error", "机器人出错"),
    "analytics.reason.too_long": ("message too long", "消息过长"),
    "analytics.reason.no_bot": ("no bot", "未启用机器人"),
    "analytics.reason.attachment": ("attachment", "附件"),
    "analytics.reason.unknown": ("unknown", "未知"),
    # -- knowledge gaps
    "analytics.gaps.title": ("Knowledge gaps", "知识缺口"),
    "analytics.gaps.note": (
        "{questions} questions the bot could not answer well (handed off, rated unhelpful or "
        "unsure), in {topics} topics.",
        "机器人未能答好的问题（转人工、被评为没帮助或不确定）"
        "共 {questions} 个，归为 {topics} 个主题。",
    ),
    "analytics.gaps.note_pending": (
        "{questions} questions the bot could not answer well (handed off, rated unhelpful or "
        "unsure), in {topics} topics; {pending} more join the next report.",
        "机器人未能答好的问题（转人工、被评为没帮助或不确定）"
        "共 {questions} 个，归为 {topics} 个主题；另有 {pending} 个计入下一次报告。",
    ),
    "analytics.gaps.collection": ("Draft into collection", "草稿存入知识集"),
    "analytics.gaps.topic": ("Topic", "主题"),
    "analytics.gaps.typical": ("Typical question", "典型问题"),
    "analytics.gaps.trend": ("Trend", "趋势"),
    "analytics.gaps.by_people": ("Answered by people", "人工回答"),
    "analytics.gaps.rising": ("rising", "上升"),
    "analytics.gaps.in_draft": ("In a draft", "已有草稿"),
    "analytics.gaps.draft": ("Draft FAQ", "起草问答"),
    "analytics.gaps.drafting": ("Drafting…", "正在起草…"),
    "analytics.gaps.in_review": ("In review", "审核中"),
    "analytics.gaps.none": ("No failed questions in this period.", "此期间没有未答好的问题。"),
    "analytics.asked": ("Asked", "提问次数"),
    # -- similar questions from real traffic
    "analytics.feedback.title": ("Similar questions from real traffic", "来自真实对话的相似问法"),
    "analytics.feedback.note": (
        "Questions customers confirmed (or agents linked) to an entry. Proposing adds them to "
        "their entries as a new version, in review.",
        "客户确认（或客服关联）到某个条目的问题。提交后，它们会作为条目的新版本加入，进入审核。",
    ),
    "analytics.feedback.question": ("Question", "问题"),
    "analytics.feedback.entry": ("Entry", "条目"),
    "analytics.feedback.from": ("From", "来源"),
    "analytics.feedback.source.helpful": ("rated helpful", "评为有帮助"),
    "analytics.feedback.source.choice": ("picked from suggestions", "从推荐中选择"),
    "analytics.feedback.source.agent": ("an agent", "客服关联"),
    "analytics.feedback.none": ("Nothing waiting.", "没有待处理的问法。"),
    "analytics.feedback.propose": ("Propose to review", "提交审核"),
    "analytics.feedback.proposed": (
        "{questions} questions sent to review in {entries} entries.",
        "已将 {questions} 个问法提交审核，涉及 {entries} 个条目。",
    ),
    # -- tables
    "analytics.none": ("(none)", "（无）"),  # no channel, team or category
    "analytics.channels": ("Channels", "渠道"),
    "analytics.teams": ("Teams", "团队"),
    "analytics.col.name": ("Name", "名称"),
    "analytics.col.conversations": ("Conversations", "会话"),
    "analytics.col.self_served": ("Self-served", "自助解决"),
    "analytics.col.handed_off": ("Handed off", "转人工"),
    "analytics.col.csat": ("CSAT", "满意度"),
    "analytics.col.first_response": ("First response", "首次响应"),
    "analytics.breakdown.none": ("No conversations.", "没有会话。"),
    "analytics.agents": ("Agents", "客服"),
    "analytics.col.agent": ("Agent", "客服"),
    "analytics.col.chats": ("Chats", "会话"),
    "analytics.col.resolved": ("Resolved", "已解决"),
    "analytics.col.messages": ("Messages", "消息"),
    "analytics.col.open_tickets": ("Open tickets", "未结工单"),
    "analytics.col.solved": ("Solved", "已解决"),
    "analytics.col.replies": ("Replies", "回复"),
    "analytics.agents.none": ("No agent activity.", "没有客服活动。"),
    "analytics.categories": ("Ticket categories", "工单分类"),
    "analytics.col.category": ("Category", "分类"),
    "analytics.col.opened": ("Opened", "新建"),
    "analytics.col.open_now": ("Open now", "当前未结"),
    "analytics.col.resolution": ("Resolution", "解决用时"),
    "analytics.col.sla": ("SLA met / breached", "时效达成 / 超时"),
    "analytics.categories.none": ("No tickets.", "没有工单。"),
    "analytics.backlog": ("Backlog at the end of the period", "期末积压"),
    "analytics.col.status": ("Status", "状态"),
    "analytics.col.priority": ("Priority", "优先级"),
    "analytics.col.tickets": ("Tickets", "工单数"),
    "analytics.backlog.none": ("No open tickets.", "没有未结工单。"),
}
