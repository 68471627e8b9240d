"""Check of exercise 06's ``attribute_vector(codes, has_attribute)``: the contract of
``vae_course.latent.attribute_vector`` (mean code with the attribute minus mean code without),
and its effect: added to the codes without the attribute, it must carry their mean onto the mean
of the codes with it."""

import torch

from .compare import fmt, is_close, returned_tensor
from .framework import exercise_check


def _cases():
    """Codes whose attribute shifts dimension 2 (and a little of dimension 0); 9 of 30 rows
    have it, so the two groups differ in size. Once with a bool mask, once with 0/1 ints."""
    g = torch.Generator().manual_seed(17)
    mask = torch.zeros(30, dtype=torch.bool)
    mask[torch.randperm(30, generator=g)[:9]] = True
    codes = torch.randn(30, 4, generator=g) + mask[:, None] * torch.tensor([0.5, 0.0, 2.0, 0.0])
    return [(codes, mask, "a boolean mask"), (codes, mask.long(), "a 0/1 integer mask")]


def _mistakes(codes, mask):
    m = mask.bool()
    with_, without = codes[m].mean(0), codes[~m].mean(0)
    v = with_ - without
    out = [
        ("attr.sign_swapped", "your vector points the other way: mean with the attribute minus "
         "mean without (not without minus with)", -v),
        ("attr.sum_not_mean", "you subtracted the sums of the two groups; the groups differ in "
         "size, so compare their means", codes[m].sum(0) - codes[~m].sum(0)),
        ("attr.minus_overall_mean", "you subtracted the mean of all codes; subtract the mean of "
         "the codes without the attribute", with_ - codes.mean(0)),
        ("attr.all_minus_without", "you used the mean of all codes where the mean of those with "
         "the attribute belongs", codes.mean(0) - without),
        ("attr.no_subtraction", "you returned the mean code of the rows with the attribute; "
         "subtract the mean of those without it", with_),
        ("attr.normalised", "you scaled the vector to length 1; keep its length: it is the step "
         "from one group's mean to the other's", v / v.norm()),
    ]
    if not mask.dtype == torch.bool:
        idx = mask.long()
        out.append(("attr.int_mask_as_index", "with a 0/1 integer mask, codes[mask] picks rows "
                    "0 and 1 over and over instead of selecting rows: turn the mask into "
                    "booleans first (mask.bool())", codes[idx].mean(0) - codes[1 - idx].mean(0)))
    return out


@exercise_check("attribute_vector", "attribute_vector(codes, has_attribute)")
def check_attribute_vector(check, fn):
    """Check ``attribute_vector(codes, has_attribute) -> (D,)`` (the contract of
    ``vae_course.latent.attribute_vector``)."""
    got_all = []
    for codes, mask, what in _cases():
        c_in, m_in = codes.clone(), mask.clone()
        out = check.call(fn, c_in, m_in)
        if not (torch.equal(c_in, codes) and torch.equal(m_in, mask)):
            check.mistake("inputs.modified_in_place", "attribute_vector changed its inputs in "
                                                      "place; compute new tensors instead.")
        got_all.append(returned_tensor(check, out, (codes.shape[1],),
                                       f"the attribute vector (with {what})"))
    for got, (codes, mask, what) in zip(got_all, _cases()):
        m = mask.bool()
        expected = (codes[m].mean(0) - codes[~m].mean(0)).double()
        if is_close(got, expected, rtol=1e-5, atol=1e-6):
            continue
        for code, text, value in _mistakes(codes.double(), mask):
            if is_close(got, value, rtol=1e-5, atol=1e-6):
                check.mistake(code, f"{text}. (With {what}: got {fmt(got)}, expected "
                                    f"{fmt(expected)}.)")
        moved = (codes[~m].double() + got).mean(0)
        check.fail(f"with {what}, the vector should be {fmt(expected)}; yours is {fmt(got)}. "
                   f"Added to the codes without the attribute, it should carry their mean onto "
                   f"the mean of the codes with it, {fmt(codes[m].mean(0))}; yours carries it "
                   f"to {fmt(moved)}.")
    codes, mask, _ = _cases()[0]
    moved = codes[~mask].double() + got_all[0]
    return check.passed(f"v = mean(codes with) − mean(codes without), for boolean and 0/1 "
                        f"masks; adding v to the {int((~mask).sum())} codes without the "
                        f"attribute moves their mean exactly onto the mean of the "
                        f"{int(mask.sum())} with it ({fmt(moved.mean(0), 4)}).")
