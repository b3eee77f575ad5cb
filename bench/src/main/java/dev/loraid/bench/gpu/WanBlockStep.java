package dev.loraid.bench.gpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * One Wan 2.1 DiT block (batch 1), forward and backward, written directly against {@link Backend} so that the
 * benchmark measures exactly the kernels of a LoRA training step and nothing else:
 * <pre>
 *   y1 = LN(x)·(1 + scale1) + shift1;  q, k, v = lin(y1);  q, k = rope(RMS(q)), rope(RMS(k))
 *   x1 = x + gate1 · o(attn(q, k, v))
 *   n3 = LN3(x1) (affine);  x2 = x1 + co(attn(RMS(cq(n3)), RMS(ck(ctx)), cv(ctx)))
 *   y2 = LN(x2)·(1 + scale2) + shift2;  x3 = x2 + gate2 · ffn2(gelu_tanh(ffn1(y2)))
 * </pre>
 * Every linear layer carries a rank-r LoRA ({@link LoraLinear}); the backward pass produces dx and every LoRA
 * gradient (the frozen base weights get none, the text context gets none).
 */
final class WanBlockStep {
    private static final double EPS = 1e-6;

    private final WanBlockConfig cfg;
    private final Backend be;
    private final Device dev;
    private final DType act;
    final LoraLinear q;
    final LoraLinear k;
    final LoraLinear v;
    final LoraLinear o;
    final LoraLinear cq;
    final LoraLinear ck;
    final LoraLinear cv;
    final LoraLinear co;
    final LoraLinear ffn1;
    final LoraLinear ffn2;
    private final LoraLinear[] all;
    private final Tensor gq;
    private final Tensor gk;
    private final Tensor gcq;
    private final Tensor gck;
    private final Tensor ln3w;
    private final Tensor ln3b;
    private final Tensor[] mod;   // shift1, scale1 + 1, gate1, shift2, scale2 + 1, gate2: [C] f32
    private final Tensor cos;
    private final Tensor sin;

    /** @param act the activation and frozen-weight dtype: BF16 for the benchmark, F64 for the gradient check */
    WanBlockStep(WanBlockConfig cfg, Backend be, DType act) {
        this.cfg = cfg;
        this.be = be;
        this.dev = be.device();
        this.act = act;
        long c = cfg.dim();
        int r = cfg.rank();
        double s = cfg.loraScale();
        q = new LoraLinear(be, dev, act, c, c, r, s, 100);
        k = new LoraLinear(be, dev, act, c, c, r, s, 110);
        v = new LoraLinear(be, dev, act, c, c, r, s, 120);
        o = new LoraLinear(be, dev, act, c, c, r, s, 130);
        cq = new LoraLinear(be, dev, act, c, c, r, s, 140);
        ck = new LoraLinear(be, dev, act, c, c, r, s, 150);
        cv = new LoraLinear(be, dev, act, c, c, r, s, 160);
        co = new LoraLinear(be, dev, act, c, c, r, s, 170);
        ffn1 = new LoraLinear(be, dev, act, c, cfg.ffn(), r, s, 180);
        ffn2 = new LoraLinear(be, dev, act, cfg.ffn(), c, r, s, 190);
        all = new LoraLinear[] {q, k, v, o, cq, ck, cv, co, ffn1, ffn2};
        gq = vector(200, 1, 0.1);
        gk = vector(201, 1, 0.1);
        gcq = vector(202, 1, 0.1);
        gck = vector(203, 1, 0.1);
        ln3w = vector(204, 1, 0.1);
        ln3b = vector(205, 0, 0.1);
        mod = new Tensor[6];
        for (int i = 0; i < 6; i++) {
            mod[i] = vector(210 + i, i == 1 || i == 4 ? 1 : 0, 0.1);
        }
        long half = cfg.headDim() / 2;
        long l = cfg.tokens();
        DType table = act == DType.F64 ? DType.F64 : DType.F32;
        cos = Tensor.empty(dev, table, l, half);
        sin = Tensor.empty(dev, table, l, half);
        Tensor angle = Tensor.empty(dev, table, l, half);
        be.randomUniform(angle, 220, 0);
        be.binaryScalar(BinaryOp.MUL, angle, 2 * Math.PI, angle);
        be.unary(UnaryOp.COS, angle, cos);
        be.unary(UnaryOp.SIN, angle, sin);
    }

    private Tensor vector(long seed, double mean, double std) {
        Tensor t = Tensor.empty(dev, act == DType.F64 ? DType.F64 : DType.F32, cfg.dim());
        be.randomNormal(t, seed, 0);
        be.binaryScalar(BinaryOp.MUL, t, std, t);
        be.binaryScalar(BinaryOp.ADD, t, mean, t);
        return t;
    }

    /** An activation in the step's dtype. */
    private Tensor bf16(long... dims) {
        return Tensor.empty(dev, act, dims);
    }

    /** Norm statistics and lse: F32 (as the Backend contract asks). */
    private Tensor f32(long... dims) {
        return Tensor.empty(dev, DType.F32, dims);
    }

    /** [L, C] → the [1, H, L, D] view attention takes. */
    private Tensor heads(Tensor t) {
        return t.view(1, t.size(0), cfg.heads(), cfg.headDim()).permute(0, 2, 1, 3);
    }

    /** Activations kept for the backward pass. */
    private static final class Saved {
        Tensor x;
        Tensor mean1;
        Tensor rstd1;
        Tensor y1;
        Tensor[] aq = new Tensor[1];
        Tensor[] ak = new Tensor[1];
        Tensor[] av = new Tensor[1];
        Tensor[] ao = new Tensor[1];
        Tensor qRaw;
        Tensor kRaw;
        Tensor rq;
        Tensor rk;
        Tensor qr;
        Tensor kr;
        Tensor vv;
        Tensor att;
        Tensor lse1;
        Tensor so;
        Tensor x1;
        Tensor mean3;
        Tensor rstd3;
        Tensor n3;
        Tensor[] acq = new Tensor[1];
        Tensor[] ack = new Tensor[1];
        Tensor[] acv = new Tensor[1];
        Tensor[] aco = new Tensor[1];
        Tensor cqRaw;
        Tensor ckRaw;
        Tensor rcq;
        Tensor rck;
        Tensor cqn;
        Tensor ckn;
        Tensor cvv;
        Tensor catt;
        Tensor lse2;
        Tensor x2;
        Tensor mean2;
        Tensor rstd2;
        Tensor y2;
        Tensor[] a1 = new Tensor[1];
        Tensor[] a2 = new Tensor[1];
        Tensor h;
        Tensor hg;
        Tensor f;
    }

    private Saved saved;

    /** x [L, C] bf16, ctx [Lt, C] bf16 → x3 [L, C] bf16. */
    Tensor forward(Tensor x, Tensor ctx) {
        Saved s = new Saved();
        long l = x.size(0);
        long lt = ctx.size(0);
        long c = cfg.dim();
        double scale = 1 / Math.sqrt(cfg.headDim());
        for (LoraLinear lin : all) {
            lin.castForStep(be);
        }
        s.x = x;
        s.mean1 = f32(l);
        s.rstd1 = f32(l);
        s.y1 = modulatedNorm(x, mod[0], mod[1], s.mean1, s.rstd1);
        s.qRaw = q.forward(be, s.y1, s.aq);
        s.kRaw = k.forward(be, s.y1, s.ak);
        s.vv = v.forward(be, s.y1, s.av);
        s.rq = f32(l);
        s.rk = f32(l);
        s.qr = rmsRope(s.qRaw, gq, s.rq);
        s.kr = rmsRope(s.kRaw, gk, s.rk);
        s.att = bf16(l, c);
        s.lse1 = f32(1, cfg.heads(), l);
        be.attention(heads(s.qr), heads(s.kr), heads(s.vv), scale, null, heads(s.att), s.lse1);
        s.so = o.forward(be, s.att, s.ao);
        s.x1 = gatedResidual(x, s.so, mod[2]);
        s.mean3 = f32(l);
        s.rstd3 = f32(l);
        s.n3 = bf16(l, c);
        be.layerNorm(s.x1, ln3w, ln3b, EPS, s.n3, s.mean3, s.rstd3);
        s.cqRaw = cq.forward(be, s.n3, s.acq);
        s.ckRaw = ck.forward(be, ctx, s.ack);
        s.cvv = cv.forward(be, ctx, s.acv);
        s.rcq = f32(l);
        s.rck = f32(lt);
        s.cqn = bf16(l, c);
        s.ckn = bf16(lt, c);
        be.rmsNorm(s.cqRaw, gcq, EPS, s.cqn, s.rcq);
        be.rmsNorm(s.ckRaw, gck, EPS, s.ckn, s.rck);
        s.catt = bf16(l, c);
        s.lse2 = f32(1, cfg.heads(), l);
        be.attention(heads(s.cqn), heads(s.ckn), heads(s.cvv), scale, null, heads(s.catt), s.lse2);
        Tensor cout = co.forward(be, s.catt, s.aco);
        s.x2 = bf16(l, c);
        be.binary(BinaryOp.ADD, s.x1, cout, s.x2);
        s.mean2 = f32(l);
        s.rstd2 = f32(l);
        s.y2 = modulatedNorm(s.x2, mod[3], mod[4], s.mean2, s.rstd2);
        s.h = ffn1.forward(be, s.y2, s.a1);
        s.hg = bf16(l, cfg.ffn());
        be.unary(UnaryOp.GELU_TANH, s.h, s.hg);
        s.f = ffn2.forward(be, s.hg, s.a2);
        saved = s;
        return gatedResidual(s.x2, s.f, mod[5]);
    }

    /** dx3 [L, C] → dx [L, C]; fills every LoRA gradient. Needs the activations of the last {@link #forward}. */
    Tensor backward(Tensor dx3, Tensor ctx) {
        Saved s = saved;
        long l = dx3.size(0);
        long c = cfg.dim();
        double scale = 1 / Math.sqrt(cfg.headDim());
        // ffn branch: x3 = x2 + gate2·f
        Tensor df = gated(dx3, mod[5]);
        Tensor dhg = bf16(l, cfg.ffn());
        ffn2.backward(be, s.hg, s.a2[0], df, dhg, false);
        Tensor dh = bf16(l, cfg.ffn());
        be.unaryBackward(UnaryOp.GELU_TANH, s.h, dhg, dh);
        Tensor dy2 = bf16(l, c);
        ffn1.backward(be, s.y2, s.a1[0], dh, dy2, false);
        Tensor dx2 = bf16(l, c);
        modulatedNormBackward(s.x2, s.mean2, s.rstd2, mod[4], dy2, dx3, dx2);
        // cross-attention: x2 = x1 + co(catt)
        Tensor dcatt = bf16(l, c);
        co.backward(be, s.catt, s.aco[0], dx2, dcatt, false);
        Tensor dcqn = bf16(l, c);
        Tensor dckn = bf16(ctx.size(0), c);
        Tensor dcv = bf16(ctx.size(0), c);
        be.attentionBackward(heads(s.cqn), heads(s.ckn), heads(s.cvv), heads(s.catt), heads(dcatt), s.lse2, scale, null,
            heads(dcqn), heads(dckn), heads(dcv));
        Tensor dcq = bf16(l, c);
        be.rmsNormBackward(s.cqRaw, gcq, s.rcq, dcqn, dcq, null);
        Tensor dck = bf16(ctx.size(0), c);
        be.rmsNormBackward(s.ckRaw, gck, s.rck, dckn, dck, null);
        ck.backward(be, ctx, s.ack[0], dck, null, false);
        cv.backward(be, ctx, s.acv[0], dcv, null, false);
        Tensor dn3 = bf16(l, c);
        cq.backward(be, s.n3, s.acq[0], dcq, dn3, false);
        Tensor dx1 = bf16(l, c);
        be.layerNormBackward(s.x1, ln3w, s.mean3, s.rstd3, dn3, dx1, null, null);
        be.binary(BinaryOp.ADD, dx1, dx2, dx1);
        // self-attention: x1 = x + gate1·o(att)
        Tensor dso = gated(dx1, mod[2]);
        Tensor datt = bf16(l, c);
        o.backward(be, s.att, s.ao[0], dso, datt, false);
        Tensor dqr = bf16(l, c);
        Tensor dkr = bf16(l, c);
        Tensor dv = bf16(l, c);
        be.attentionBackward(heads(s.qr), heads(s.kr), heads(s.vv), heads(s.att), heads(datt), s.lse1, scale, null,
            heads(dqr), heads(dkr), heads(dv));
        Tensor dq = rmsRopeBackward(s.qRaw, gq, s.rq, dqr);
        Tensor dk = rmsRopeBackward(s.kRaw, gk, s.rk, dkr);
        Tensor dy1 = bf16(l, c);
        q.backward(be, s.y1, s.aq[0], dq, dy1, false);
        k.backward(be, s.y1, s.ak[0], dk, dy1, true);
        v.backward(be, s.y1, s.av[0], dv, dy1, true);
        Tensor dx = bf16(l, c);
        modulatedNormBackward(s.x, s.mean1, s.rstd1, mod[1], dy1, dx1, dx);
        return dx;
    }

    /** LN(x)·scalePlusOne + shift (LayerNorm without affine, as Wan's norm1/norm2). */
    private Tensor modulatedNorm(Tensor x, Tensor shift, Tensor scalePlusOne, Tensor mean, Tensor rstd) {
        Tensor n = bf16(x.size(0), x.size(1));
        be.layerNorm(x, null, null, EPS, n, mean, rstd);
        be.binary(BinaryOp.MUL, n, scalePlusOne, n);
        be.binary(BinaryOp.ADD, n, shift, n);
        return n;
    }

    /** dx = residual + LN_backward(dy·scalePlusOne). */
    private void modulatedNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor scalePlusOne, Tensor dy,
                                       Tensor residual, Tensor dx) {
        Tensor dn = bf16(x.size(0), x.size(1));
        be.binary(BinaryOp.MUL, dy, scalePlusOne, dn);
        be.layerNormBackward(x, null, mean, rstd, dn, dx, null, null);
        be.binary(BinaryOp.ADD, dx, residual, dx);
    }

    private Tensor gatedResidual(Tensor x, Tensor branch, Tensor gate) {
        Tensor out = gated(branch, gate);
        be.binary(BinaryOp.ADD, x, out, out);
        return out;
    }

    private Tensor gated(Tensor t, Tensor gate) {
        Tensor out = bf16(t.size(0), t.size(1));
        be.binary(BinaryOp.MUL, t, gate, out);
        return out;
    }

    /** RMSNorm over the whole dim (Wan's qk-norm), then rope per head. */
    private Tensor rmsRope(Tensor t, Tensor g, Tensor rstd) {
        Tensor n = bf16(t.size(0), t.size(1));
        be.rmsNorm(t, g, EPS, n, rstd);
        Tensor r = bf16(t.size(0), t.size(1));
        be.rope(n.view(1, t.size(0), cfg.heads(), cfg.headDim()), cos, sin, false,
            r.view(1, t.size(0), cfg.heads(), cfg.headDim()));
        return r;
    }

    private Tensor rmsRopeBackward(Tensor raw, Tensor g, Tensor rstd, Tensor dr) {
        long l = raw.size(0);
        Tensor dn = bf16(l, raw.size(1));
        be.rope(dr.view(1, l, cfg.heads(), cfg.headDim()), cos, sin, true, dn.view(1, l, cfg.heads(), cfg.headDim()));
        Tensor d = bf16(l, raw.size(1));
        be.rmsNormBackward(raw, g, rstd, dn, d, null);
        return d;
    }

    /** Every LoRA layer, in the order q, k, v, o, cq, ck, cv, co, ffn1, ffn2. */
    LoraLinear[] layers() {
        return all;
    }
}
