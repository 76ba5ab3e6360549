#!/usr/bin/python3
"""walkthrough.py: a caseworker's day in a real (headless) browser against a
running `casehost serve`: log in, find a person, open the case of a young
person back from running away, screen them through the step forms, see the
referrals and the danger banners, revoke a consent, log out.

It only clicks what a person could click (links, radio buttons, buttons) and
reads what a person could read; it never talks to the database, never sleeps
(every wait is an explicit WebDriverWait), and writes only under --out (the
build directory), never into the source tree.

Usage (run with Debian's /usr/bin/python3 and python3-selenium 4.8):
  walkthrough.py --url http://127.0.0.1:PORT/ --user a_worker --out DIR \
                 --ids '{"person": 1, "case": 2, "consent": 3, ...}'
The password is read from the environment variable named by --password-env
(default CASEHOST_TEST_PASSWORD), so it is never on a command line.

--ids keys: person, case, consent (ids); person_name (what to search for);
yes (item ids answered yes, the rest no: include a disclosure item);
disclosure (the item whose yes stops the screening); referrals (destination
ids that must be listed after the screening); expect_911 (true: a "911"
danger alert must come first on the stored screening). With --lead USER (a
supervisor), a last step opens `report screenings` from USER's home page: its
chart and table render, and its CSV link downloads the table's rows.

Prints one line per step ("ok   NN name: detail" or "FAIL NN name: why");
for a failure also the current URL and the page's visible text (2000
characters), and saves a screenshot and the page's HTML. Exits 0 only when
every step passed; a failed step does not stop the later ones (each starts
from a page it can reach by itself), so one run reports everything broken.
"""

import argparse
import csv
import io
import json
import os
import re
import urllib.parse
import urllib.request
import sys
import time
import traceback
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:  # the C suite turns this exit status into "run make deps"
    print(f"walkthrough: cannot import selenium ({e}): run `make deps` "
          "(python3-selenium, chromium, chromium-driver)", file=sys.stderr)
    sys.exit(3)

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
WAIT = 15  # seconds for any one page or element
POLL = 0.05  # how often a wait looks again (selenium's 0.5 s doubles the run)


class StepFailed(Exception):
    """A step cannot go on; its message says what the page showed instead."""


def replaced(e):
    """
    Whether a WebDriver error says the element belongs to a page that has
    since been replaced. ChromeDriver reports that as "stale element", or,
    while the new document is still being swapped in, as an unknown error
    "Node with given id does not belong to the document".
    """
    text = str(e)
    return "stale element" in text or "does not belong to the document" in text


def left(driver):
    """
    A wait condition: the page marked by leave_by has been replaced. The mark
    is a property of the page's window, which a new document does not have,
    whatever ChromeDriver says of the old page's nodes meanwhile. While the
    new document is being swapped in, a script may not run: not yet.
    """
    try:
        return driver.execute_script("return window.__walkthroughLeft === undefined")
    except WebDriverException:
        return False


class Walk:
    """The browser, the server's base URL, the screenshots so far and the results."""

    def __init__(self, args, ids):
        self.base = args.url if args.url.endswith("/") else args.url + "/"
        self.user = args.user
        self.lead = args.lead
        self.password = os.environ.get(args.password_env, "")
        self.out = args.out
        self.ids = ids
        self.shots = 0
        self.results = []  # (number, name, ok)
        self.problems = []  # what went wrong in the current step, recorded as it goes
        self.notes = []  # what the current step found worth saying
        self.step_no = 0
        self.step_name = ""
        os.makedirs(self.out, exist_ok=True)
        for old in os.listdir(self.out):  # an earlier run's pages would mislead
            if re.match(r"^\d\d-.*\.(png|html)$", old):
                os.remove(os.path.join(self.out, old))
        self.log = open(os.path.join(self.out, "walkthrough.log"), "w", encoding="utf-8")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--disable-gpu", "--window-size=1280,1024",
                  "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-extensions", "--password-store=basic"):
            opts.add_argument(a)
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                                       options=opts)
        self.driver.set_page_load_timeout(WAIT * 2)

    # ------------------------------------------------------------ pages ---

    def url(self, path):
        return urljoin(self.base, path.lstrip("/"))

    def run_url(self, *argv):
        """The GET address of a command: /run?a=VERB&a=SUB&a=ARG..."""
        return self.url("/run?" + urlencode([("a", str(a)) for a in argv]))

    def wait(self, cond, what):
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=POLL).until(cond)
        except TimeoutException:
            raise StepFailed(f"timed out after {WAIT} s waiting for {what}") from None

    def _loaded(self):
        """Waits until the page's <main> (every casehost page has one) is there."""
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete",
                  "the page to load")
        self.wait(EC.presence_of_element_located((By.TAG_NAME, "main")),
                  "a casehost page (<main>)")

    def get(self, url):
        self.driver.get(url)
        self._loaded()

    def leave_by(self, action, what):
        """Does action (a click, a submit) and waits until another page has loaded."""
        self.driver.execute_script("window.__walkthroughLeft = true")
        try:
            action()
        except WebDriverException as e:
            # ChromeDriver looked for the clicked node in the page being swapped
            # in: the navigation has started. Had it not, the wait below fails.
            # A stale element was never clicked: that is raised.
            if "does not belong to the document" not in str(e):
                raise
            self.note(f"ChromeDriver during {what}: the node no longer belonged to the document")
        self.wait(left, f"a new page after {what}")
        self._loaded()

    def click(self, element, what):
        self.leave_by(element.click, what)

    def say(self, line):
        """One line of the report: on standard output and in OUT/walkthrough.log."""
        print(line, flush=True)
        self.log.write(line + "\n")
        self.log.flush()

    def shot(self, name):
        self.shots += 1
        path = os.path.join(self.out, f"{self.shots:02d}-{name}.png")
        self.driver.save_screenshot(path)
        return path

    def text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            return ""

    def h1(self):
        found = self.driver.find_elements(By.CSS_SELECTOR, "main h1")
        return found[0].text.strip() if found else ""

    def errors(self):
        """The text of the page's error boxes (a refused command, a login refused)."""
        return [e.text.strip() for e in self.driver.find_elements(By.CSS_SELECTOR, "div.error")]

    def no_errors(self, what):
        errs = self.errors()
        if errs:
            raise StepFailed(f"{what}: the page shows an error: {' / '.join(errs)[:600]}")

    def path_is(self, path):
        return urlsplit(self.driver.current_url).path == path

    def links(self, scope="main"):
        """(element, text, argv) of every link to /run in scope, argv from its a= parts."""
        out = []
        # One round trip for all of them: a WebDriver call per link costs more than the page.
        found = self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".map(a => [a, a.href, a.innerText]);", f"{scope} a[href]")
        for a, href, text in found:
            parts = urlsplit(href or "")
            if parts.path != "/run":
                continue
            argv = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "a"]
            out.append((a, (text or "").strip(), argv))
        return out

    def link_to(self, *argv, scope="main"):
        """The first link whose command starts with argv (strings compared), or None."""
        want = [str(a) for a in argv]
        for a, _, have in self.links(scope):
            if have[: len(want)] == want:
                return a
        return None

    def action(self, pattern):
        """The first action (a link, or the button of a posted action whose words must not
        sit in an address) in the page's actions list whose text matches pattern, or None."""
        rx = re.compile(pattern, re.I)
        for a, _, _ in [x for x in self.links("ul.actions li") if rx.search(x[1])]:
            return a
        for b in self.driver.find_elements(By.CSS_SELECTOR, "ul.actions li form.action button"):
            if rx.search(b.text):
                return b
        return None

    def command_form(self, verb=None, sub=None):
        """The page's command form (form.command), of verb and sub when given, or None."""
        found = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('form.command')).map(f => [f,"
            " f.elements['_verb'] ? f.elements['_verb'].value : null,"
            " f.elements['_sub'] ? f.elements['_sub'].value : null]);")
        for f, v, u in found:
            if (verb is None or v == verb) and (sub is None or u == sub):
                return f
        return None

    def submit(self, form, what):
        """Submits form with its own submit button, as a person would."""
        button = form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]")
        self.click(button, what)

    def open_view(self, link, argv, what):
        """
        Opens a command that only shows (a view) by its link, or by its address
        when there is no link. A view runs on GET; when the page shows the
        command's form instead, that is recorded as a problem and the form is
        sent, so that the steps after it can still be checked.
        """
        if link is not None:
            self.click(link, f"following the link to {what}")
        else:
            self.get(self.run_url(*argv))
        form = self.command_form(argv[0], argv[1] if len(argv) > 1 else None)
        if form is not None and not self.driver.find_elements(
                By.CSS_SELECTOR, "main dl, main table, main form.step, ul.actions, .alert"):
            self.problem(f"'{' '.join(map(str, argv[:2]))}' is not a view: GET showed its "
                         "form, not its output (sent the form to go on)")
            self.submit(form, f"sending the {what} form")

    # ------------------------------------------------------------ steps ---

    def problem(self, text):
        """A failure of the current step that does not stop it (it goes on to check more)."""
        self.problems.append(text)

    def note(self, text):
        self.notes.append(text)

    def step(self, name, fn):
        self.step_no += 1
        self.step_name = name
        self.problems, self.notes = [], []
        detail = ""
        start = time.monotonic()
        try:
            detail = fn() or ""
        except StepFailed as e:
            self.problems.append(str(e))
        except WebDriverException as e:
            self.problems.append(f"browser: {e.msg if hasattr(e, 'msg') else e}")
        except Exception as e:  # a bug here must still be reported as this step's failure
            self.problems.append(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
        ok = not self.problems
        self.notes.append(f"{time.monotonic() - start:.1f} s")
        tail = "; ".join(x for x in [detail] + self.notes if x)
        if ok:
            self.say(f"ok   {self.step_no:02d} {name}{': ' + tail if tail else ''}")
        else:
            self.report_failure(name, tail)
        self.results.append((self.step_no, name, ok))
        return ok

    def report_failure(self, name, tail):
        self.say(f"FAIL {self.step_no:02d} {name}: {' | '.join(self.problems)}"
                 f"{' (' + tail + ')' if tail else ''}")
        try:
            self.say(f"     url: {self.driver.current_url}")
            shot = self.shot(f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-FAILED")
            html = shot[:-4] + ".html"
            with open(html, "w", encoding="utf-8") as f:
                f.write(self.driver.page_source)
            self.say(f"     screenshot: {shot}  html: {html}")
            text = self.text()[:2000]
            self.say("     page text: " + text.replace("\n", "\n                "))
        except WebDriverException as e:
            self.say(f"     (the browser cannot show the page: {e})")

    # ---------------------------------------------------- the walkthrough ---

    def s_login_page(self):
        self.get(self.base)
        if not self.path_is("/login"):
            raise StepFailed(f"/ did not send a stranger to /login (at {self.driver.current_url})")
        for field in ("user", "password"):
            if not self.driver.find_elements(By.CSS_SELECTOR, f"form input[name='{field}']"):
                raise StepFailed(f"the login page has no '{field}' field")
        self.shot("login")
        return "/ redirects to /login"

    def s_log_in(self):
        if not self.path_is("/login"):
            self.get(self.url("/login"))
        self.driver.find_element(By.NAME, "user").send_keys(self.user)
        self.driver.find_element(By.NAME, "password").send_keys(self.password)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form[action='/login']"), "log in")
        self.no_errors("logging in")
        if not self.path_is("/"):
            raise StepFailed(f"after logging in the browser is at {self.driver.current_url}, not /")
        out = self.driver.find_elements(By.CSS_SELECTOR, "header form[action='/logout'] button")
        if not out or self.user not in out[0].text:
            raise StepFailed(f"no 'Log out {self.user}' button in the header")
        if self.h1() != "My work":
            self.problem(f"the home page's heading is '{self.h1()}', not 'My work'")
        self.shot("my-work")
        return f"as {self.user}, at My work"

    def s_find_person(self):
        person = str(self.ids["person"])
        nav = self.driver.find_elements(By.LINK_TEXT, "Find a person")
        if nav:
            self.click(nav[0], "Find a person")
        else:
            self.problem("the header has no 'Find a person' link")
            self.get(self.run_url("person", "find"))
        form = self.command_form("person", "find")
        if form is None:
            raise StepFailed("the Find a person page has no search form")
        box = form.find_element(By.NAME, "name")
        box.clear()
        box.send_keys(self.ids.get("person_name", "Jo"))
        self.submit(form, "searching")
        self.no_errors("searching")
        found = self.link_to("person", "show", person)
        self.shot("find-person")
        if found is None:
            raise StepFailed(f"the results have no link to person {person}")
        self.click(found, f"person {person}")
        self.no_errors(f"person {person}")
        if self.h1() != "person show" or person not in self.text():
            raise StepFailed(f"not the page of person {person} (heading '{self.h1()}')")
        self.shot("person")
        return f"'{self.ids.get('person_name', 'Jo')}' found, person {person} opened"

    def s_open_case(self):
        case = str(self.ids["case"])
        link = self.link_to("case", "show", case)
        if link is None:
            if not self.path_is("/run"):
                self.get(self.run_url("person", "show", self.ids["person"]))
                link = self.link_to("case", "show", case)
        if link is None:
            # The person's page lists the case but links nowhere: the Cases list does.
            self.note(f"the person's page has no link to case {case}: opened it from Cases")
            self.click(self.driver.find_element(By.LINK_TEXT, "Cases"), "Cases")
            link = self.link_to("case", "show", case)
            if link is None:
                raise StepFailed(f"neither the person's page nor Cases links to case {case}")
        self.click(link, f"case {case}")
        self.no_errors(f"case {case}")
        text = self.text()
        if self.h1() != "case show":
            raise StepFailed(f"not a case page (heading '{self.h1()}')")
        if not re.search(r"runaway return", text, re.I):
            self.problem("the case page does not show the runaway return")
        if "youth_quick" not in text or "suggested" not in text:
            self.problem("the case page does not show the suggested youth_quick screening")
        self.shot("case")
        return f"case {case}, screening suggested"

    def s_screen_now_offered(self):
        self.case_page()
        link = self.action(r"screen now")
        if link is None:
            labels = [a.text for a in self.driver.find_elements(By.CSS_SELECTOR,
                                                                 "ul.actions li a")]
            raise StepFailed(f"the case page has no 'screen now' action (actions: {labels})")
        return f"'{link.text}' -> {link.get_property('href')}"

    def case_page(self):
        case = str(self.ids["case"])
        if not (self.h1() == "case show" and self.link_to("case", "update", case) is not None):
            self.get(self.run_url("case", "show", case))
        self.no_errors(f"case {case}")

    def s_screening_steps(self):
        case = str(self.ids["case"])
        yes = set(self.ids.get("yes", []))
        disclosure = self.ids.get("disclosure")
        self.case_page()
        link = self.action(r"screen now")
        if link is None:
            self.note("no 'screen now' action: opened screen resume by its address")
        self.open_view(link, ["screen", "resume", case], "the screening")
        self.no_errors("the first question")
        asked = []
        resumed = False
        for _ in range(40):
            step = self.current_step(yes)
            if step is None:
                break
            form, item, answer, buttons = step
            asked.append(f"{item}={answer}")
            self.shot(f"step-{len(asked)}")
            if not buttons:
                raise StepFailed("a step form has no 'Save and continue' button")
            self.click(buttons[0], f"answering {item}")
            self.no_errors(f"answering {item}")
            if len(asked) == 2 and not resumed:
                self.interrupt_and_resume(len(asked))
                resumed = True
        else:
            raise StepFailed("more than 40 questions: the step forms never end")
        if not asked:
            raise StepFailed("no step form (form.step) with questions was shown")
        self.shot("screening-stopped")
        if disclosure and f"{disclosure}=yes" not in asked:
            raise StepFailed(f"the disclosure item '{disclosure}' was never asked ({asked})")
        danger = self.alerts("danger")
        if disclosure and not any(disclosure in a for a in danger):
            raise StepFailed(f"no danger alert naming '{disclosure}' after the disclosure "
                             f"(danger alerts: {danger})")
        if self.action(r"store the screening") is None:
            raise StepFailed("no 'store the screening' action after the last question")
        return (f"{len(asked)} question(s): {', '.join(asked)}; logged out after 2 and resumed"
                f" after a new login; stopped with a danger alert")

    def current_step(self, yes):
        """
        The page's step form answered (yes for the items in yes): the form, the
        item, the answer and its 'Save and continue' buttons; None when there
        is no step form. Chromium may hand back an element of the document
        the last navigation replaced ("does not belong to the document"):
        then the form is looked up again in the loaded page, at most twice.
        """
        for attempt in range(3):
            try:
                forms = self.driver.find_elements(By.CSS_SELECTOR, "form.step")
                if not forms:
                    return None
                item, answer = self.answer(forms[0], yes)
                buttons = [b for b in forms[0].find_elements(By.CSS_SELECTOR,
                                                             "button[type=submit]")
                           if b.text.strip() == "Save and continue"]
                return forms[0], item, answer, buttons
            except WebDriverException as e:
                if not replaced(e) or attempt == 2:
                    raise
                self._loaded()
        return None

    def interrupt_and_resume(self, saved):
        """
        The interview is interrupted (the caseworker logs out, or the session
        ends) after saved answers; logged in again, the case offers to resume
        the screening with those answers and it goes on at the next question.
        """
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "header form[action='/logout'] button")
        if not buttons:
            raise StepFailed("no Log out button in the header mid-screening")
        self.click(buttons[0], "Log out mid-screening")
        if not self.path_is("/login"):
            raise StepFailed(f"logging out mid-screening led to {self.driver.current_url}")
        self.driver.find_element(By.NAME, "user").send_keys(self.user)
        self.driver.find_element(By.NAME, "password").send_keys(self.password)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form[action='/login']"), "log in")
        self.no_errors("logging in again")
        self.case_page()
        link = self.action(rf"resume the screening \({saved} answers? saved\)")
        if link is None:
            raise StepFailed(f"after a new login the case offers no 'resume the screening "
                             f"({saved} answers saved)'")
        self.click(link, "resume the screening")
        self.no_errors("resuming the screening")
        if f"{saved} answer" not in self.driver.find_element(By.TAG_NAME, "main").text:
            self.problem("the resumed screening does not say how many answers were saved")
        if not self.driver.find_elements(By.CSS_SELECTOR, "form.step"):
            raise StepFailed("the resumed screening shows no next question")
        self.shot("screening-resumed")

    def answer(self, form, yes):
        """Answers the step form's question: yes for the items in yes, else no."""
        # Each radio button with its name, value, label and where both are drawn, at once.
        radios = self.driver.execute_script(
            "const f = arguments[0], box = e => { const r = e.getBoundingClientRect();"
            " return {x: r.x, y: r.y, width: r.width, height: r.height}; };"
            "return Array.from(f.querySelectorAll('input[type=radio]')).map(r => {"
            " const l = r.id ? f.querySelector('label[for=\"' + CSS.escape(r.id) + '\"]') : null;"
            " return {el: r, name: r.name, value: r.value, box: box(r),"
            "         label: l, lbox: l ? box(l) : null}; });", form)
        if radios:
            item = radios[0]["name"].lstrip(":")
            want = "yes" if item in yes else "no"
            choice = [r for r in radios if r["value"] == want]
            if not choice:  # a choice question: unknown, else the first choice
                choice = [r for r in radios if r["value"] == "unknown"] or radios
            c = choice[0]
            if c["label"] is None:
                self.problem(f"the answer '{c['value']}' to {item} has no label")
            else:
                self.beside(c["box"], c["lbox"], f"{item}: '{c['value']}'")
            (c["label"] or c["el"]).click()
            self.wait(EC.element_to_be_selected(c["el"]), f"the answer to {item} to be chosen")
            return item, c["value"]
        texts = form.find_elements(By.CSS_SELECTOR, "input[type=text]")
        if texts:
            item = (texts[0].get_dom_attribute("name") or "").lstrip(":")
            texts[0].send_keys("unknown")
            return item, "unknown"
        raise StepFailed("a step form with neither radio buttons nor a text answer")

    def beside(self, b, t, what):
        """
        A radio button's label must sit on its line, to its right: a label
        drawn under its button reads as the label of the next one, and a
        screening answer would be recorded as the other answer.
        """
        middle = t["y"] + t["height"] / 2
        if not (b["y"] - 2 <= middle <= b["y"] + b["height"] + 2 and t["x"] >= b["x"] + b["width"]):
            self.problem(f"{what}: the label is not beside its radio button (button at "
                         f"x={b['x']:.0f} y={b['y']:.0f}, label at x={t['x']:.0f} y={t['y']:.0f})")

    def alerts(self, severity):
        return [a.text for a in self.driver.find_elements(By.CSS_SELECTOR,
                                                          f"div.alert.{severity}[role='alert']")]

    def s_store_screening(self):
        case = str(self.ids["case"])
        disclosure = self.ids.get("disclosure")
        link = self.action(r"store the screening")
        if link is None:
            raise StepFailed("no 'store the screening' action on the page (the step before failed)")
        self.click(link, "store the screening")
        if "=" in urllib.parse.unquote(self.driver.current_url.partition("?")[2]) or \
                disclosure and disclosure in self.driver.current_url:
            raise StepFailed("the answers went into the address (browser history): "
                             + self.driver.current_url)
        form = self.command_form("screen", "start")
        if form is None:
            raise StepFailed("'store the screening' did not open the screen start form")
        caseval = form.find_elements(By.CSS_SELECTOR, "[name='case']")
        if not caseval or caseval[0].get_property("value") != case:
            self.problem(f"the screen start form is not prefilled with case {case}")
        answers = [e.get_property("value") for e in
                   form.find_elements(By.CSS_SELECTOR, "input[name='answer']")]
        answers = [a for a in answers if a]
        if disclosure and f"{disclosure}=yes" not in answers:
            self.problem(f"the review form does not hold '{disclosure}=yes' (answers: {answers})")
        self.shot("review")
        self.submit(form, "storing the screening")
        self.no_errors("storing the screening")
        self.shot("screening-stored")
        first = self.driver.execute_script(
            "const h = document.querySelector('main > h1');"
            "return h && h.nextElementSibling ? h.nextElementSibling.className : '';")
        danger = self.alerts("danger")
        if not danger:
            raise StepFailed("the stored screening shows no danger alert")
        if first.split() != ["alert", "danger"]:
            self.problem(f"the first thing under the heading is not a danger alert ('{first}')")
        if disclosure and not any(disclosure in a for a in danger):
            self.problem(f"no danger alert names the disclosure '{disclosure}': {danger}")
        if self.ids.get("expect_911"):
            if not any("911" in a for a in danger):
                self.problem(f"no 911 danger alert on a case in imminent danger: {danger}")
            elif "911" not in danger[0]:
                self.problem(f"the 911 alert is not the first danger alert: {danger}")
        m = re.search(r"Screening\s+(\d+)", self.text())
        return (f"screening {m.group(1) if m else '?'} stored; danger alert(s): "
                f"{' | '.join(a.splitlines()[0][:70] for a in danger)}")

    def s_referrals(self):
        case = str(self.ids["case"])
        want = [str(d) for d in self.ids.get("referrals", [])]
        self.get(self.run_url("case", "show", case))
        self.no_errors(f"case {case}")
        case_text = self.text()
        self.shot("case-referrals")
        if not re.search(r"stopped|completed|positive", case_text):
            self.problem("the case page does not show the screening as stored")
        link = self.link_to("referral", "list")
        if link is None:
            self.note("the case page has no link to its referral list: opened it by address")
        self.open_view(link, ["referral", "list", "--case", case], "the referral list")
        self.no_errors("the referral list")
        self.shot("referral-list")
        listed = self.column("destination")
        if not listed:
            raise StepFailed("the referral list shows no referral (no Destination column)")
        for d in want:
            if d not in listed:
                self.problem(f"the referral list has no referral to {d} (it has {listed})")
        for d in sorted(set(listed)):
            if d not in case_text:
                self.problem(f"the case page does not show the referral to {d}")
        return f"referrals of case {case}: {', '.join(sorted(set(listed)))}"

    def rows(self):
        """Every row of the page's tables as {lower-case column label: cell text}."""
        out = []
        for table in self.driver.find_elements(By.CSS_SELECTOR, "main table"):
            heads = [th.text.strip().lower() for th in table.find_elements(By.CSS_SELECTOR,
                                                                          "thead th")]
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
                tds = [td.text.strip() for td in row.find_elements(By.TAG_NAME, "td")]
                out.append(dict(zip(heads, tds)))
        return out

    def column(self, name):
        """The cells of the column labelled name ("destination") in the page's tables."""
        return [r[name] for r in self.rows() if name in r]

    def s_consents(self):
        person, consent = str(self.ids["person"]), str(self.ids["consent"])
        self.get(self.run_url("person", "show", person))
        self.no_errors(f"person {person}")
        link = self.link_to("consent", "list", person)
        if link is None:
            self.note(f"the person's page has no link to their consents: opened consent list "
                      f"{person} by its address")
        self.open_view(link, ["consent", "list", person], "the consents")
        self.no_errors("the consent list")
        self.shot("consents")
        if consent not in self.column("id") and consent not in self.column("consent"):
            raise StepFailed(f"the consent list does not show consent {consent}")
        revoke = self.link_to("consent", "revoke", consent)
        if revoke is None and self.command_form("consent", "revoke") is None:
            self.problem(f"the consent list offers no way to revoke consent {consent} "
                         "(no link to consent revoke, no revoke form)")
        return f"consent {consent} listed"

    def s_revoke_consent(self):
        person, consent = str(self.ids["person"]), str(self.ids["consent"])
        if self.h1() != "consent list":
            self.get(self.run_url("consent", "list", person))
        link = self.link_to("consent", "revoke", consent)
        form = self.command_form("consent", "revoke")
        if link is not None:
            self.click(link, f"revoke consent {consent}")
            form = self.command_form("consent", "revoke")
        elif form is None:
            self.note("no revoke action: opened the consent revoke form by its address")
            self.get(self.run_url("consent", "revoke", consent))
            form = self.command_form("consent", "revoke")
        if form is None:
            raise StepFailed("no consent revoke form")
        field = form.find_element(By.NAME, "consent")
        if field.get_property("value") != consent:
            if link is not None:
                self.problem(f"the revoke form is not prefilled with consent {consent}")
            field.clear()
            field.send_keys(consent)
        form.find_element(By.NAME, "--reason").send_keys("The young person withdrew it")
        self.shot("revoke-form")
        self.submit(form, "revoking")
        self.no_errors("revoking the consent")
        self.shot("revoked")
        if not re.search(r"revoked", self.text(), re.I):
            raise StepFailed("the page after revoking does not say the consent was revoked")
        # The person's consents now show it revoked, no longer active.
        self.get(self.run_url("consent", "list", person))
        self.no_errors("the consent list after revoking")
        row = [r for r in self.rows() if r.get("id") == consent]
        if not row:
            raise StepFailed(f"consent {consent} is gone from the consent list")
        if row[0].get("active") != "no" or row[0].get("revoked", "-") in ("", "-"):
            self.problem(f"the consent list still shows consent {consent} active: {row[0]}")
        self.shot("consents-after")
        return f"consent {consent} revoked; the list shows it revoked on {row[0].get('revoked')}"

    def s_log_out(self):
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "header form[action='/logout'] button")
        if not buttons:
            self.get(self.base)
            buttons = self.driver.find_elements(By.CSS_SELECTOR,
                                                "header form[action='/logout'] button")
        if not buttons:
            raise StepFailed("no Log out button in the header")
        self.click(buttons[0], "Log out")
        if not self.path_is("/login"):
            raise StepFailed(f"logging out led to {self.driver.current_url}, not /login")
        self.shot("logged-out")
        self.get(self.base)
        if not self.path_is("/login"):
            raise StepFailed(f"after logging out / shows {self.driver.current_url}, not /login")
        self.get(self.run_url("case", "show", self.ids["case"]))
        if not self.path_is("/login"):
            raise StepFailed("after logging out the case page still opens")
        self.shot("login-again")
        return "/ and the case page redirect to /login"

    def s_report(self):
        """A lead (--lead) logs in, opens a report from the Reports section of their home
        page, sees its chart (inline SVG) beside its table, and downloads the CSV the
        figure links to: the same rows as the table. Then logs out."""
        lead = self.lead
        self.get(self.url("/login"))
        self.driver.find_element(By.NAME, "user").send_keys(lead)
        self.driver.find_element(By.NAME, "password").send_keys(self.password)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form[action='/login']"),
                    f"log in as {lead}")
        self.no_errors(f"logging in as {lead}")
        heads = [h.text.strip() for h in self.driver.find_elements(By.CSS_SELECTOR, "main h2")]
        if "Reports" not in heads:
            raise StepFailed(f"{lead}'s home page has no Reports section (sections: {heads})")
        link = self.link_to("report", "screenings")
        if link is None:
            raise StepFailed("the Reports section has no link to report screenings")
        self.click(link, "report screenings")
        self.no_errors("report screenings")
        svg = self.driver.find_elements(By.CSS_SELECTOR, "main figure.chart svg[role='img']")
        if not svg or not svg[0].is_displayed() or svg[0].size["height"] < 50:
            raise StepFailed("the report page draws no chart (figure.chart svg[role=img])")
        title = svg[0].find_elements(By.CSS_SELECTOR, ":scope > title")
        if not title or not title[0].get_attribute("textContent").strip():
            self.problem("the chart has no <title> for a screen reader")
        bars = svg[0].find_elements(By.CSS_SELECTOR, "g > title")
        # the table the figure stands beside, cell by cell as text (an overflowing cell too)
        table = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main figure.chart ~ table tbody tr'))"
            ".map(tr => Array.from(tr.cells).map(td => td.textContent.trim()));")
        if not table:
            raise StepFailed("the report page shows no table beside its chart")
        if len(bars) != len(table):
            self.problem(f"the chart has {len(bars)} bars for {len(table)} rows of the table")
        self.shot("report-screenings")
        csv_link = self.driver.find_elements(By.CSS_SELECTOR, "main figure.chart a.csv")
        if not csv_link:
            raise StepFailed("the chart has no Download CSV link")
        href = csv_link[0].get_attribute("href")
        cookie = self.driver.get_cookie("casehost_session")
        req = urllib.request.Request(href, headers={"Cookie": f"casehost_session={cookie['value']}"})
        with urllib.request.urlopen(req, timeout=WAIT) as resp:
            kind = resp.headers.get("Content-Type", "")
            disposition = resp.headers.get("Content-Disposition", "")
            text = resp.read().decode("utf-8")
        if not kind.startswith("text/csv") or not disposition.startswith("attachment"):
            self.problem(f"the CSV link answers {kind!r}, {disposition!r}")
        lines = list(csv.reader(io.StringIO(text, newline="")))
        body = lines[1:]
        shown = table
        got = [["-" if c == "" else c for c in row] for row in body]
        if got != shown:
            raise StepFailed(f"the CSV ({len(body)} rows) differs from the table ({len(shown)} "
                             f"rows): first CSV row {got[:1]}, first table row {shown[:1]}")
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "header form[action='/logout'] button")
        if buttons:
            self.click(buttons[0], "Log out")
        return (f"as {lead}: a chart of {len(bars)} bars beside a table of {len(table)} rows; "
                f"the CSV has the same {len(body)} rows")

    def run(self):
        self.step("login page", self.s_login_page)
        if not self.step("log in", self.s_log_in):
            return False  # nothing else can be seen without a session
        self.step("find a person", self.s_find_person)
        self.step("open the case", self.s_open_case)
        self.step("screen now offered", self.s_screen_now_offered)
        self.step("screening step forms", self.s_screening_steps)
        self.step("store the screening", self.s_store_screening)
        self.step("referrals", self.s_referrals)
        self.step("consents", self.s_consents)
        self.step("revoke a consent", self.s_revoke_consent)
        self.step("log out", self.s_log_out)
        if self.lead:
            self.step("a report, its chart and its CSV", self.s_report)
        return all(ok for _, _, ok in self.results)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the server's base URL")
    p.add_argument("--user", required=True)
    p.add_argument("--lead", help="a supervisor or admin: also opens a report as them")
    p.add_argument("--password-env", default="CASEHOST_TEST_PASSWORD",
                   help="the environment variable holding the password")
    p.add_argument("--ids", required=True, help="JSON: person, case, consent, ...")
    p.add_argument("--out", required=True, help="where screenshots go (under the build dir)")
    args = p.parse_args()
    ids = json.loads(args.ids)
    for k in ("person", "case", "consent"):
        if k not in ids:
            p.error(f"--ids has no '{k}'")
    if not os.environ.get(args.password_env):
        p.error(f"${args.password_env} is empty")
    for path in (CHROMEDRIVER, CHROMIUM):
        if not os.access(path, os.X_OK):
            print(f"walkthrough: {path} is missing: run `make deps` (chromium, chromium-driver)",
                  file=sys.stderr)
            return 3
    try:
        walk = Walk(args, ids)
    except WebDriverException as e:
        print(f"walkthrough: cannot start Chromium through {CHROMEDRIVER}: {e}", file=sys.stderr)
        return 2
    try:
        ok = walk.run()
    finally:
        walk.driver.quit()
    passed = sum(1 for _, _, good in walk.results if good)
    walk.say(f"{passed} of {len(walk.results)} steps passed; screenshots in {walk.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
