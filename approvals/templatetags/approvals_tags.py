"""Template tags of the approval workflow for pages of other apps (the request page)."""

from django import template

from approvals import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def vendor_wait(context, purchase_request):
    """{% vendor_wait pr as wait %}: the request's wait on its vendor's joint review for the
    reader (approvals.selectors.VendorWait, shown by approvals/_vendor_wait.html), or None. A
    page of many requests reads `selectors.vendor_waits` once instead."""
    reader = context["request"].user
    return selectors.vendor_waits([purchase_request], reader).get(purchase_request.pk)


@register.filter
def waiting_on_for(purchase_request, reader):
    """{{ pr|waiting_on_for:user }}: whom the request waits on, "You" for the reader."""
    return selectors.waiting_on_for(purchase_request, reader)
