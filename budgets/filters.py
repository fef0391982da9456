import django_filters

from accounts.models import Department
from core.query import IntegerFilter
from intake.models import Category

from .models import Budget


class BudgetFilter(django_filters.FilterSet):
    fiscal_year = IntegerFilter(
        min_value=2000, max_value=2100, help_text="The calendar year the fiscal year starts in."
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), help_text="A department's id."
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), help_text="A category's id."
    )

    class Meta:
        model = Budget
        fields = ["fiscal_year", "department", "category"]
