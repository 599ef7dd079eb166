"""Article-like corpora for benchmarks: career-comparison articles in the same plain-text layout as
corpus/ (title, date line, headings, paragraphs, "•" lists), built from role, skill and tool vocabularies.

Article i depends only on (seed, i), so a corpus of n+1 articles is the corpus of n plus one new file.
Usage: python benchmarks/generate.py OUT_DIR --articles 1000 --size short
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

ROLES = ["Data Scientist", "Machine Learning Engineer", "Research Scientist", "Lead Machine Learning Engineer",
         "Data Engineer", "MLOps Engineer", "Applied Scientist", "AI Product Manager", "Computer Vision Engineer",
         "NLP Engineer", "Data Analyst", "Analytics Engineer", "Deep Learning Researcher", "AI Ethicist",
         "Robotics Engineer", "Business Intelligence Developer", "Quantitative Researcher", "AI Architect",
         "Prompt Engineer", "Speech Recognition Engineer", "Recommendation Systems Engineer",
         "Head of Data Science", "Principal AI Engineer", "Machine Learning Researcher", "Data Architect",
         "AI Solutions Consultant", "Statistician", "Bioinformatics Scientist", "Reinforcement Learning Engineer",
         "Staff Data Scientist", "AI Safety Researcher", "Big Data Engineer", "Decision Scientist"]
SKILLS = ["Python", "SQL", "statistics", "linear algebra", "probability", "PyTorch", "TensorFlow", "Spark",
          "distributed systems", "experiment design", "causal inference", "data visualization", "Kubernetes",
          "feature engineering", "model evaluation", "A/B testing", "time series forecasting", "Scala", "C++",
          "cloud platforms", "stakeholder communication", "technical writing", "optimization", "Bayesian methods",
          "transformer models", "data pipelines", "MLflow", "Airflow", "ETL design", "GPU programming"]
TOOLS = ["Jupyter", "Docker", "Git", "AWS SageMaker", "Azure ML", "Google Vertex AI", "Databricks", "dbt",
         "Tableau", "Power BI", "Weights & Biases", "Ray", "Kafka", "Snowflake", "Hugging Face Transformers",
         "scikit-learn", "XGBoost", "ONNX", "Triton", "Label Studio", "Jira", "Terraform"]
INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Automotive", "Manufacturing", "Energy",
              "Insurance", "Telecommunications", "Media", "Logistics", "Government", "Education", "Gaming"]
DEGREES = ["Bachelor's degree in Computer Science", "Master's degree in Statistics", "Ph.D. in Machine Learning",
           "degree in Mathematics", "Master's degree in Data Science", "degree in Electrical Engineering",
           "Ph.D. in Physics", "bootcamp certificate plus a strong portfolio"]
SOURCES = ["Glassdoor", "Indeed", "Built In", "salary.com", "LinkedIn", "Levels.fyi", "PayScale"]
VERBS = ["Designing", "Building", "Maintaining", "Evaluating", "Deploying", "Monitoring", "Documenting",
         "Prototyping", "Reviewing", "Scaling", "Auditing", "Automating", "Analyzing", "Mentoring on"]
OBJECTS = ["training pipelines", "data quality checks", "production models", "feature stores", "dashboards",
           "research prototypes", "evaluation benchmarks", "labeling workflows", "inference services",
           "experiment results", "model cards", "data contracts", "retraining schedules", "ranking systems"]
OPENERS = ["As organizations adopt artificial intelligence, the line between {a} and {b} is often blurred.",
           "Choosing between a career as a {a} or a {b} depends on what kind of problems you enjoy.",
           "Both the {a} and the {b} work with data and models, but their days look very different.",
           "Hiring managers frequently compare the {a} and {b} roles when planning an AI team.",
           "If you are weighing a move into AI, the {a} and {b} paths are two common options."]
FOCUS = ["building reliable systems", "publishing new methods", "answering business questions",
         "shipping features to users", "leading technical teams", "running experiments",
         "keeping models healthy in production", "turning research into products"]
MONTHS = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]


def article(seed: int, i: int, size: str = "short") -> tuple[str, str]:
    """(file name, text) of article i. size: short (~250 words) or long (~900 words)."""
    rng = random.Random(f"{seed}:{i}")
    a, b = rng.sample(ROLES, 2)
    title = f"{a} vs. {b}" if rng.random() < 0.7 else f"What does a {a} do compared with a {b}?"
    date = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2019, 2025)}"
    lines = [title, "", f"{rng.randint(3, 9)} min read · {date}", "", rng.choice(OPENERS).format(a=a, b=b)
             + f" A {a} mostly focuses on {rng.choice(FOCUS)}, while a {b} spends more time on "
             f"{rng.choice(FOCUS)}. This article compares the two roles for readers planning their next step.", ""]

    def bullets(n: int) -> list[str]:
        return [f"  • {rng.choice(VERBS)} {rng.choice(OBJECTS)} with {rng.choice(SKILLS)}" for _ in range(n)]

    def section(heading: str, body: list[str]) -> None:
        lines.extend([heading, ""] + body + [""])

    long = size == "long"
    section("Responsibilities", [f"{a}", ""] + bullets(rng.randint(3, 6 if long else 4)) + ["", f"{b}", ""]
            + bullets(rng.randint(3, 6 if long else 4)))
    skills_a, skills_b = rng.sample(SKILLS, 4), rng.sample(SKILLS, 4)
    section("Required Skills", [f"A {a} needs {', '.join(skills_a[:3])} and {skills_a[3]}. A {b} relies more "
                                f"on {', '.join(skills_b[:3])} and {skills_b[3]}. Both benefit from "
                                f"{rng.choice(SKILLS)} and clear communication with stakeholders."])
    low, high = sorted(rng.sample(range(70, 260), 2))
    section("Salary and Outlook", [f"According to {rng.choice(SOURCES)}, the average salary for a {a} is "
                                   f"${low},{rng.randint(0, 999):03d} per year, while a {b} earns about "
                                   f"${high},{rng.randint(0, 999):03d}. Demand for both roles is expected to grow "
                                   f"in {rng.choice(INDUSTRIES).lower()} and {rng.choice(INDUSTRIES).lower()}."])
    if long:
        section("Educational Backgrounds", [f"Most {a}s hold a {rng.choice(DEGREES)}, and many {b}s have a "
                                            f"{rng.choice(DEGREES)}. Employers increasingly accept equivalent "
                                            "experience when candidates can show shipped projects.", "",
                                            f"Typical paths into the {b} role include:", ""]
                + [f"  • {rng.choice(DEGREES)}" for _ in range(3)])
        section("Tools and Software", [f"The tools used by a {a} include:", ""]
                + [f"  • {t} for {rng.choice(OBJECTS)}" for t in rng.sample(TOOLS, 4)]
                + ["", f"A {b} also uses {rng.choice(TOOLS)} and {rng.choice(TOOLS)} day to day."])
        section("Common Industries", ["Both roles are in demand across industries, including:", ""]
                + [f"  • {x}" for x in rng.sample(INDUSTRIES, 5)])
        section("Practical Tips for Getting Started", [f"If you want to become a {rng.choice((a, b))}, start "
                                                       "with these steps:", ""]
                + [f"  • Learn {s} through a hands-on project" for s in rng.sample(SKILLS, 4)])
    lines.append(f"In conclusion, the {a} and the {b} are both valuable roles; pick the one whose daily work "
                 f"around {rng.choice(OBJECTS)} and {rng.choice(OBJECTS)} you find most motivating.")
    return f"gen_{i:06d}.txt", "\n".join(lines) + "\n"


def write_corpus(out: Path, articles: int, size: str = "short", seed: int = 7, start: int = 0) -> list[Path]:
    """Write articles start..start+articles-1 into out; returns their paths. Existing files are kept."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + articles):
        name, text = article(seed, i, size)
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--size", choices=("short", "long"), default="short")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = write_corpus(args.out, args.articles, args.size, args.seed)
    print(f"wrote {len(paths)} article(s) to {args.out}")


if __name__ == "__main__":
    main()
