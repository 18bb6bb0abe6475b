"""Reports for the desk and supervisors: the summaries (總結分析) of an estate's week or month.

summaries  the figures: rounds due and walked, defects by place and route, tickets and their clocks
charts     server-drawn SVG bar charts
views      the summary page (blueprint "reports", /reports)
"""
