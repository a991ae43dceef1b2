"""The built-in template documents: varied, realistic text with distinctive phrases tasks can target.

Each builder returns a fresh ``Document``. A tiny inline markup keeps them readable:
``**bold**`` and ``*italic*`` inside paragraph text become formatted runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lam_kedro.env.document import (
    Comment,
    Document,
    PageBreak,
    Paragraph,
    ParagraphFormat,
    Run,
    RunFormat,
    Table,
)

_MARKUP = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*)")
_BOLD, _ITALIC = RunFormat(bold=True), RunFormat(italic=True)


def _runs(text: str) -> list[Run]:
    runs = []
    for piece in _MARKUP.split(text):
        if piece.startswith("**") and piece.endswith("**") and len(piece) > 4:
            runs.append(Run(piece[2:-2], _BOLD))
        elif piece.startswith("*") and piece.endswith("*") and len(piece) > 2:
            runs.append(Run(piece[1:-1], _ITALIC))
        elif piece:
            runs.append(Run(piece))
    return runs or [Run("")]


def P(text: str, style: str = "Normal", align: str | None = None, **fmt: float) -> Paragraph:  # noqa: N802
    return Paragraph(_runs(text), style, ParagraphFormat(alignment=align, **fmt))


def H(text: str, level: int = 1) -> Paragraph:  # noqa: N802
    return Paragraph([Run(text)], f"Heading {level}")


def bullets(items: list[str], kind: str = "bullet") -> list[Paragraph]:
    style = "List Bullet" if kind == "bullet" else "List Number"
    return [Paragraph(_runs(t), style, ParagraphFormat(), kind) for t in items]


def _doc(name: str, *parts: Paragraph | Table | PageBreak | list[Paragraph], **kw: object) -> Document:
    blocks: list = []
    for part in parts:
        blocks.extend(part if isinstance(part, list) else [part])
    return Document(blocks=blocks, title=name, **kw)  # type: ignore[arg-type]


def one_line() -> Document:
    return _doc("one_line", P("Remember to submit the quarterly expense report to Margaret by Friday afternoon."))


def community_garden() -> Document:
    return _doc(
        "community_garden",
        P("The Maple Street community garden opened its gates this spring after two years of planning."),
        P("Volunteers built twelve raised beds from reclaimed cedar and installed a rainwater barrel "
          "beside the tool shed. Each household may reserve **one bed** for the growing season."),
        P("Workdays are held on the first Saturday of every month. Bring gloves, a water bottle and "
          "your favourite trowel; coffee and pastries are provided by the bakery on the corner."),
        P("Questions about plot assignments can be sent to the garden committee at any time."),
    )


def grocery_list() -> Document:
    return _doc(
        "grocery_list",
        H("Weekend Grocery List"),
        P("Pick these up at the farmers market before noon on Saturday."),
        bullets(["Fresh sourdough bread", "Two pounds of heirloom tomatoes", "A dozen free-range eggs",
                 "Organic baby spinach", "Sharp cheddar cheese", "Cold brew coffee concentrate"]),
        P("If the market is sold out of tomatoes, buy cherry tomatoes instead."),
    )


def onboarding_checklist() -> Document:
    return _doc(
        "onboarding_checklist",
        P("New Employee Onboarding Checklist", "Title"),
        P("Complete these steps during your first week at Northwind Logistics."),
        bullets(["Collect your badge and laptop from the front desk",
                 "Sign the confidentiality agreement and tax forms",
                 "Set up two-factor authentication for your email account",
                 "Meet your onboarding buddy for a campus tour",
                 "Finish the workplace safety training module"], kind="number"),
        P("Your manager will review this checklist with you on **Friday**."),
    )


def sales_table() -> Document:
    return _doc(
        "sales_table",
        H("Regional Sales Summary"),
        P("The table below compares third-quarter revenue across our four sales regions."),
        Table([["Region", "Q3 Revenue", "Growth"], ["Pacific Northwest", "$1.24M", "8.5%"],
               ["Great Lakes", "$980K", "3.1%"], ["Gulf Coast", "$1.05M", "12.7%"],
               ["New England", "$760K", "-2.4%"]]),
        P("The Gulf Coast region grew fastest thanks to the new distribution partnership."),
        P("New England revenue declined slightly after the warehouse relocation in August."),
    )


def launch_draft() -> Document:
    return _doc(
        "launch_draft",
        H("Product Launch Plan: Aurora Smart Thermostat"),
        P("The Aurora thermostat ships to retail partners on the fifteenth of October."),
        P("Marketing will run a six-week campaign featuring the energy savings dashboard and the "
          "voice assistant integration."),
        P("Customer support needs updated troubleshooting guides before the launch date."),
        P("Pricing is set at $179 for the base model and $229 for the bundle with two sensors."),
        comments=[Comment("Can we confirm this date with the warehouse team?", "fifteenth of October", "Priya Shah"),
                  Comment("Legal still has to approve the bundle price.", "$229", "Tom Becker")],
    )


def library_newsletter() -> Document:
    doc = _doc(
        "library_newsletter",
        P("Riverside Library Newsletter", "Title"),
        H("Autumn Reading Challenge"),
        P("Readers of all ages can join the autumn reading challenge starting September 20. Log five "
          "books to earn a canvas tote bag designed by local artist Elena Ruiz."),
        H("New Makerspace Hours"),
        P("The makerspace with its 3D printers and sewing machines is now open Tuesday through "
          "Saturday from 10 a.m. to 6 p.m."),
    )
    doc.section.header = "Riverside Public Library"
    doc.section.footer = "125 River Road, Millbrook | (555) 014-2290"
    return doc


def project_proposal() -> Document:
    return _doc(
        "project_proposal",
        P("Proposal: Solar Panels for Lincoln Elementary", "Title"),
        H("Background"),
        P("Lincoln Elementary spends roughly $48,000 a year on electricity, most of it during school hours."),
        H("Objectives"),
        P("We aim to cut the school's energy bill by forty percent and teach students about renewable energy."),
        H("Installation Plan", 2),
        P("A licensed contractor will install 220 rooftop panels over the summer break."),
        H("Budget", 2),
        P("The total cost of $310,000 will be covered by a state grant and a parent association fundraiser."),
        H("Timeline"),
        P("Construction begins in June and the panels go live before the first day of school."),
    )


def business_letter() -> Document:
    return _doc(
        "business_letter",
        P("Hartwell & Finch Accounting"),
        P("48 Commerce Avenue, Suite 300, Denver, CO 80202"),
        P("March 14, 2025"),
        P("Ms. Jordan Alvarez"),
        P("Director of Operations, Bluebird Catering"),
        P("Dear Ms. Alvarez,"),
        P("Thank you for choosing Hartwell & Finch to prepare your company's annual tax filings. We have "
          "reviewed the receipts and payroll records you sent last week.", align="justify"),
        P("To complete the return we still need the depreciation schedule for your delivery vans and "
          "a copy of the new equipment lease. Please send them by **March 28**.", align="justify"),
        P("We appreciate your continued trust and look forward to working with you."),
        P("Sincerely,"),
        P("Daniel Finch, CPA"),
    )


def meeting_notes() -> Document:
    return _doc(
        "meeting_notes",
        H("Design Team Weekly Sync"),
        P("Date: Tuesday, May 6 | Attendees: Aisha, Marco, Lena, Victor"),
        H("Agenda", 2),
        bullets(["Review the checkout page mockups", "Accessibility audit findings", "Icon library migration"]),
        H("Decisions", 2),
        P("The team agreed to adopt the *high contrast* palette for all form fields."),
        H("Action Items", 2),
        bullets(["Marco will update the mockups by Thursday", "Lena will file tickets for the audit issues",
                 "Victor will benchmark the new icon font"], kind="number"),
    )


def annual_report() -> Document:
    return _doc(
        "annual_report",
        P("Greenfield Cooperative Annual Report 2024", "Title"),
        P("Growing together with our member farms", "Subtitle"),
        H("Letter from the Chair"),
        P("This year our cooperative welcomed thirty-one new member farms and opened a cold storage facility "
          "in Cedar Falls."),
        H("Financial Highlights"),
        P("Net revenue rose to **$12.6 million**, an increase of nine percent over the previous year."),
        Table([["Metric", "2023", "2024"], ["Member farms", "142", "173"], ["Net revenue", "$11.6M", "$12.6M"]]),
        H("Looking Ahead"),
        P("In 2025 we will pilot a shared equipment program and expand our organic certification support."),
    )


def recipe() -> Document:
    return _doc(
        "recipe",
        P("Grandma Rosa's Lemon Ricotta Pancakes", "Title"),
        P("Serves four. Preparation time: 25 minutes.", "Subtitle"),
        H("Ingredients"),
        bullets(["1 cup whole milk ricotta", "2 large eggs, separated", "Zest of two lemons",
                 "3/4 cup all-purpose flour", "1 tablespoon sugar", "A pinch of sea salt"]),
        H("Method"),
        bullets(["Whisk the ricotta, egg yolks and lemon zest until smooth",
                 "Fold in the flour, sugar and salt", "Beat the egg whites to soft peaks and fold them in",
                 "Cook on a buttered griddle until golden brown on both sides"], kind="number"),
        P("*Tip:* serve with warm blueberry compote and a dusting of powdered sugar."),
    )


def resume() -> Document:
    return _doc(
        "resume",
        P("Samantha Okafor", "Title", align="center"),
        P("Seattle, WA | samantha.okafor@example.com | (555) 013-7788", align="center"),
        H("Summary"),
        P("Data analyst with six years of experience turning messy logistics data into clear dashboards."),
        H("Experience"),
        P("**Senior Data Analyst**, Cascade Freight, 2021 to present"),
        bullets(["Built a route cost dashboard used by forty dispatchers",
                 "Reduced monthly reporting time from three days to four hours"]),
        P("**Data Analyst**, Harbor Retail Group, 2018 to 2021"),
        H("Education"),
        P("B.S. in Statistics, University of Washington"),
        H("Skills"),
        P("SQL, Python, Tableau, forecasting, stakeholder communication"),
    )


def office_memo() -> Document:
    return _doc(
        "office_memo",
        P("MEMORANDUM", "Title"),
        P("**To:** All Staff"),
        P("**From:** Facilities Department"),
        P("**Date:** June 2, 2025"),
        P("**Subject:** Parking garage resurfacing"),
        P("The north parking garage will be closed for resurfacing from June 9 through June 13. Staff who "
          "normally park there may use the overflow lot on Birch Street during that week."),
        P("A free shuttle will run every ten minutes between the overflow lot and the main entrance "
          "from 7 a.m. to 7 p.m."),
    )


def faq() -> Document:
    return _doc(
        "faq",
        H("Frequently Asked Questions: Home Internet Service"),
        H("How do I restart my router?", 2),
        P("Unplug the power cable, wait thirty seconds, then plug it back in. The lights turn solid green "
          "when the connection is ready."),
        H("Why is my connection slow in the evening?", 2),
        P("Evening hours are the busiest time on the network. Upgrading to the Fiber Plus plan gives you "
          "priority bandwidth."),
        H("Can I keep my existing email address?", 2),
        P("Yes. Your mailbox and contacts move automatically when you switch plans."),
        H("How do I cancel my service?", 2),
        P("Call customer care at least fourteen days before the end of your billing cycle."),
    )


def event_invitation() -> Document:
    return _doc(
        "event_invitation",
        P("You're Invited!", "Title", align="center"),
        P("Join us for the Harborview Neighborhood Summer Picnic", align="center"),
        P("Saturday, July 19, from noon until 5 p.m. at Lakeside Pavilion", align="center"),
        P("Enjoy a potluck lunch, live bluegrass music, a pie baking contest and games for the kids. "
          "Please bring a dish to share and a blanket for the lawn."),
        P("Kindly RSVP to Carmen Diaz by **July 10** so we can plan the seating."),
    )


def travel_itinerary() -> Document:
    return _doc(
        "travel_itinerary",
        P("Lisbon Conference Trip Itinerary", "Title"),
        P("Traveler: Dr. Helen Marsh | Conference: European Urban Mobility Summit"),
        H("Flights"),
        Table([["Date", "Flight", "Route", "Departs"], ["Oct 3", "TP 204", "Boston to Lisbon", "6:45 p.m."],
               ["Oct 8", "TP 217", "Lisbon to Boston", "11:20 a.m."]]),
        H("Hotel"),
        P("Hotel Alfama Riverside, Rua dos Remédios 12, confirmation number QX7734."),
        PageBreak(),
        H("Daily Schedule"),
        bullets(["October 4: keynote on congestion pricing", "October 5: panel on bicycle infrastructure",
                 "October 6: site visit to the tram depot"]),
    )


def style_guide() -> Document:
    return _doc(
        "style_guide",
        H("Brand Writing Style Guide"),
        P("Our voice is friendly, confident and precise. Write the way a helpful expert talks."),
        P("Use sentence case for headlines and avoid exclamation marks in product copy.", "Quote"),
        H("Word List", 2),
        Table([["Use", "Avoid"], ["sign in", "log in"], ["email", "e-mail"], ["website", "web site"]]),
        P("When in doubt, ask the content design team in the *#writing-help* channel."),
    )


BUILDERS: dict[str, tuple[str, Callable[[], Document]]] = {
    "one_line": ("A single sentence reminder about submitting an expense report.", one_line),
    "community_garden": ("A few plain paragraphs announcing a neighbourhood community garden.", community_garden),
    "grocery_list": ("A heading and a bulleted grocery shopping list for the farmers market.", grocery_list),
    "onboarding_checklist": ("A titled numbered checklist of new employee onboarding steps.", onboarding_checklist),
    "sales_table": ("A sales summary with a table of quarterly revenue by region.", sales_table),
    "launch_draft": ("A product launch plan draft with reviewer comments on dates and prices.", launch_draft),
    "library_newsletter": ("A library newsletter with a page header and footer and short sections.",
                           library_newsletter),
    "project_proposal": ("A project proposal with several headings and sections for a school solar project.",
                         project_proposal),
    "business_letter": ("A formal business letter from an accounting firm to a client.", business_letter),
    "meeting_notes": ("Meeting notes with an agenda, decisions and numbered action items.", meeting_notes),
    "annual_report": ("An annual report with a title, subtitle, headings and a financial table.", annual_report),
    "recipe": ("A recipe with an ingredient list and numbered cooking steps.", recipe),
    "resume": ("A one-page resume with contact details, experience and skills.", resume),
    "office_memo": ("An internal office memo announcing a parking garage closure.", office_memo),
    "faq": ("A frequently asked questions page about home internet service.", faq),
    "event_invitation": ("A centred invitation to a neighbourhood summer picnic.", event_invitation),
    "travel_itinerary": ("A travel itinerary with a flight table, hotel details and a page break.",
                         travel_itinerary),
    "style_guide": ("A short brand writing style guide with a quote and a word list table.", style_guide),
}
