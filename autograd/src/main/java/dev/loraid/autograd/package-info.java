/** loraid autograd module. */
package dev.loraid.autograd;
